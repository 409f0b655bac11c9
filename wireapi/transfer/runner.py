"""The background runner of exports and imports (registered in
wireapi.background): it claims one waiting job at a time, atomically, runs
it and records its progress and outcome in the job's description."""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from contextlib import aclosing
from pathlib import Path
from typing import Any

import orjson

from django.conf import settings

from extenddb_site import joblog
from storage.backends.base import JobRecord, StaleSchema, TableRecord
from storage.files import open_private

from .. import errors, indexes, pitr, values
from ..dispatch import STALE_RETRIES, Request
from ..keys import key_from_item
from ..operations.items import PreparedWrite, write_many
from ..runtime import Runtime, get_runtime
from . import bulk, export_files, import_files, jobs, restore, s3paths

log = logging.getLogger("extenddb.transfer")

POLL_SECONDS = 0.5
# Jobs run on the one server holding this task's lease (wireapi.background). A RUNNING
# job whose runner has not reported for this long is taken over: its server died (the
# lease moved on, and a holder that loses its lease stops at once). Progress is saved at
# least every PROGRESS_SECONDS.
STALE_SECONDS = 30.0
PROGRESS_SECONDS = 2.0
EXPORT_PAGE = 500
IMPORT_BATCH = 100
ERROR_LOG_FOLDER = "AWSDynamoDB/import-errors/"

NO_SUCH_BUCKET = ("S3NoSuchBucket", "The specified bucket does not exist")
ACCESS_DENIED = ("S3AccessDenied", "Access Denied")
_STATUS_KEYS = {jobs.EXPORT: "ExportStatus", jobs.IMPORT: "ImportStatus", jobs.RESTORE: "Status",
                jobs.BULK: "BulkOperationStatus"}
ITEM_VALIDATION = ("ItemValidationError", "Some of the items failed validation checks and were not imported. "
                   "Please check CloudWatch error logs for more details.")


async def _run_restore(runtime: Runtime, job: JobRecord, heartbeat: Any = None) -> None:
    await restore.run_restore(runtime, job, _finish, heartbeat or _Heartbeat(runtime, job))


async def run_job(runtime: Runtime, job: JobRecord, heartbeat: Any = None) -> None:
    """Run one claimed RESTORE job to its end (manage.py restore); a failure fails the job."""
    try:
        await _run_restore(runtime, job, heartbeat)
    except Exception:
        log.exception("restore %s failed", job.arn)
        await _finish(runtime, job, ("InternalServerError", "Internal server error"))


async def _run_bulk(runtime: Runtime, job: JobRecord) -> None:
    await bulk.run_bulk(runtime, job, _finish, _Heartbeat(runtime, job))


async def run_jobs() -> None:
    runtime = get_runtime()
    while True:
        ran = False
        # A bulk operation asked to stop while its runner died (with its server) ends cancelled.
        await runtime.backend.cancel_abandoned_jobs(time.time() - STALE_SECONDS)
        for kind in (jobs.EXPORT, jobs.IMPORT, jobs.RESTORE, jobs.BULK):
            moment = time.time()
            job = await runtime.backend.claim_job(kind, moment, moment - STALE_SECONDS)
            if job is None:
                continue
            ran = True
            await run_one(runtime, job)
        if not ran:
            await asyncio.sleep(POLL_SECONDS)


async def run_one(runtime: Runtime, job: JobRecord) -> None:
    """Run a claimed job to its end (also `manage.py importtable`/`exporttable` in the foreground)."""
    run = {jobs.EXPORT: run_export, jobs.IMPORT: run_import, jobs.RESTORE: _run_restore,
           jobs.BULK: _run_bulk}[job.kind]
    try:
        async with joblog.job(job.kind.lower(), arn=job.arn) as report:
            await run(runtime, job)
            report.outcome = "failed" if job.status == "FAILED" else "ok"
            report.result(failure=job.description.get("FailureCode"))
    except Exception:
        log.exception("%s %s failed", job.kind.lower(), job.arn)
        await _finish(runtime, job, ("InternalServerError", "Internal server error"))


async def _finish(runtime: Runtime, job: JobRecord, failure: tuple[str, str] | None = None,
                  **fields: Any) -> None:
    status_key = _STATUS_KEYS[job.kind]
    job.status = "FAILED" if failure else "COMPLETED"
    job.updated_at = jobs.now()
    job.description.update(fields)
    job.description[status_key] = job.status
    job.description["EndTime"] = job.updated_at
    if failure:
        job.description["FailureCode"], job.description["FailureMessage"] = failure
    await runtime.backend.save_job(job)


class _Heartbeat:
    """Saves the job now and then, so a stalled runner can be told from a busy one."""

    def __init__(self, runtime: Runtime, job: JobRecord) -> None:
        self._runtime, self._job, self._last = runtime, job, time.monotonic()

    async def beat(self, **progress: Any) -> None:
        await asyncio.sleep(0)  # let the other background tasks run between pages
        if time.monotonic() - self._last < PROGRESS_SECONDS:
            return
        self._last = time.monotonic()
        joblog.progress(**progress)
        self._job.description.update(progress)
        self._job.updated_at = jobs.now()
        await self._runtime.backend.save_job(self._job)


# --- export ------------------------------------------------------------------------

async def run_export(runtime: Runtime, job: JobRecord) -> None:
    desc = job.description
    table = await runtime.catalog.get(desc["_table_name"])
    if table is None or table.description.get("TableId") != desc.get("TableId"):
        await _finish(runtime, job, ("TableNotFoundException", "The table was deleted before it was exported"))
        return
    export_id = job.arn.rpartition("/export/")[2]
    export_key = s3paths.join_key(desc.get("S3Prefix"), "AWSDynamoDB", export_id)
    try:
        bucket_path = s3paths.bucket_dir(desc["S3Bucket"])
        export_dir = s3paths.key_path(bucket_path, export_key)
    except s3paths.NoSuchBucket:
        await _finish(runtime, job, NO_SUCH_BUCKET)
        return
    except s3paths.OutsideRoot:
        await _finish(runtime, job, ACCESS_DENIED)
        return
    writer = export_files.ExportWriter(export_dir, export_key, desc["ExportFormat"],
                                       settings.EXTENDDB_EXPORT_FILE_BYTES)
    heartbeat = _Heartbeat(runtime, job)
    source_id = pitr.history_source(table)
    if source_id is None:
        await _finish(runtime, job, ("PointInTimeRecoveryUnavailableException",
                                     "Point in time recovery was disabled before the export ran"))
        return
    incremental = desc.get("ExportType") == "INCREMENTAL_EXPORT"
    billed = 0
    try:
        writer.start()
        if incremental:
            spec = desc["IncrementalExportSpecification"]
            await pitr.settle(runtime.backend, source_id, spec["ExportToTime"])
            billed = await _write_changes(runtime, table, source_id, spec, writer, heartbeat)
        else:
            # The table as of ExportTime, read from its history (not as of the job's start).
            await pitr.settle(runtime.backend, source_id, desc["ExportTime"])
            pages = runtime.backend.history_pages(source_id, desc["ExportTime"], EXPORT_PAGE)
            async with aclosing(pages):
                async for rows in pages:
                    for _, _, body, size in rows:
                        if body is not None:
                            writer.add(body)
                            billed += size
                    joblog.progress(ItemCount=writer.item_count, BilledSizeBytes=billed)
                    await heartbeat.beat(_ItemsWritten=writer.item_count)  # private: manage.py exporttable's bar
        end = jobs.now()
        summary = {
            "version": "2020-06-30", "exportArn": job.arn, "startTime": jobs.iso(desc["StartTime"]),
            "endTime": jobs.iso(end), "tableArn": desc["TableArn"], "tableId": desc["TableId"],
            **({"exportTime": jobs.iso(desc["ExportTime"])} if "ExportTime" in desc else {}),
            "s3Bucket": desc["S3Bucket"],
            "s3Prefix": desc.get("S3Prefix"), "s3SseAlgorithm": desc.get("S3SseAlgorithm"),
            "s3SseKmsKeyId": desc.get("S3SseKmsKeyId"), "billedSizeBytes": billed,
            "exportType": desc.get("ExportType", "FULL_EXPORT"),
        }
        if incremental:
            spec = desc["IncrementalExportSpecification"]
            summary.update(exportFromTime=jobs.iso(spec["ExportFromTime"]), exportToTime=jobs.iso(spec["ExportToTime"]),
                           outputView=spec["ExportViewType"])
        manifest = writer.finish(summary)
    except PermissionError:
        writer.abort()
        await _finish(runtime, job, ACCESS_DENIED)
        return
    except OSError as exc:
        writer.abort()
        log.warning("export %s could not write: %s", job.arn, exc)
        await _finish(runtime, job, ("S3Error", f"Could not write the export: {exc.strerror or exc}"))
        return
    await _finish(runtime, job, None, ExportManifest=manifest, ItemCount=writer.item_count,
                  BilledSizeBytes=billed)


async def _write_changes(runtime: Runtime, table: TableRecord, source_id: int, spec: dict[str, Any],
                         writer: export_files.ExportWriter, heartbeat: _Heartbeat) -> int:
    """INCREMENTAL_EXPORT: one record per item written in [ExportFromTime, ExportToTime),
    its final state in the window (an item created and deleted inside it gives none)."""
    names = table.extra["schema"].names
    with_old = spec["ExportViewType"] == "NEW_AND_OLD_IMAGES"
    billed = 0
    pages = runtime.backend.history_change_pages(source_id, spec["ExportFromTime"], spec["ExportToTime"],
                                                 EXPORT_PAGE)
    async with aclosing(pages):
        async for rows in pages:
            for _, _, stamp, new_body, old_body in rows:
                if new_body is None and old_body is None:
                    continue
                new = orjson.loads(new_body) if new_body is not None else None
                old = orjson.loads(old_body) if old_body is not None else None
                some = new if new is not None else old
                record: dict[str, Any] = {
                    "Metadata": {"WriteTimestampMicros": {"N": str(round(stamp * 1_000_000))}},
                    "Keys": {n: some[n] for n in names if n in some}}  # type: ignore[index, operator]
                if new is not None:
                    record["NewImage"] = new
                    billed += len(new_body)  # type: ignore[arg-type]
                if old is not None and with_old:
                    record["OldImage"] = old
                writer.add_change(record)
            await heartbeat.beat()
    return billed


# --- import ------------------------------------------------------------------------

class _ErrorLog:
    """Bad lines, one JSON line each, in the shape of DynamoDB's CloudWatch
    import log entries, at <bucket>/AWSDynamoDB/import-errors/<import id>.jsonl."""

    def __init__(self, bucket_path: Path, bucket: str, import_arn: str) -> None:
        self.key = ERROR_LOG_FOLDER + import_arn.rpartition("/import/")[2] + ".jsonl"
        self._path = bucket_path / self.key
        self._bucket, self._arn = bucket, import_arn
        self._file: Any = None

    def write(self, key: str, index: int | None, message: str) -> None:
        entry = {"itemS3Pointer": {"bucket": self._bucket, "key": key, "itemIndex": index},
                 "importArn": self._arn, "errorMessages": [message]}
        try:
            if self._file is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open_private(self._path, "ab")  # bad lines hold item data: owner only
            self._file.write(orjson.dumps(entry) + b"\n")
        except OSError as exc:  # the count is still reported; the log is a courtesy
            log.warning("import %s: cannot write its error log: %s", self._arn, exc)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _attribute_types(params: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in params["AttributeDefinitions"]}


def _prepare(table: TableRecord, item: dict[str, Any]) -> PreparedWrite:
    """Validate a candidate as PutItem validates an Item; DynamoDBError if it is no item."""
    item = values.validate_item(item)
    values.check_item_size(item)
    schema = table.extra["schema"]
    pk, sk = key_from_item(schema, item)
    indexes.check_index_keys(table.extra["indexes"], item)

    def decide(old: dict[str, Any] | None, new: dict[str, Any] = item) -> tuple[dict[str, Any], None]:
        return new, None

    return PreparedWrite(table, pk, sk, {n: item[n] for n in schema.names}, decide)


async def _activate(runtime: Runtime, name: str) -> None:
    """The imported table becomes ACTIVE (on the definition as it is now)."""
    for _ in range(STALE_RETRIES):
        table = await runtime.catalog.get(name)
        if table is None:
            return
        try:
            await runtime.backend.save_table(dataclasses.replace(table, status="ACTIVE"))
        except StaleSchema:
            runtime.catalog.invalidate()
            continue
        runtime.catalog.changed()
        return


async def _drop(runtime: Runtime, table: TableRecord) -> None:
    await runtime.backend.drop_table(table.id)
    runtime.catalog.changed()


class _ImportPass:
    """One reading of the source objects: candidates validated, good items
    written in batches, bad ones counted and logged."""

    def __init__(self, runtime: Runtime, job: JobRecord, table: TableRecord, error_log: _ErrorLog) -> None:
        self.table, self.job, self.error_log = table, job, error_log
        desc = job.description
        self.format = desc["InputFormat"]
        self.compression = desc.get("InputCompressionType", "NONE")
        self.csv = (desc.get("InputFormatOptions") or {}).get("Csv") or {}
        self.types = _attribute_types(desc["TableCreationParameters"])
        self.request = Request(runtime, None, f"import-{job.id}")  # type: ignore[arg-type] - no caller's key
        self.heartbeat = _Heartbeat(runtime, job)
        self.processed = self.imported = self.failed = self.size = 0
        self.batch: list[PreparedWrite] = []
        self.items: list[dict[str, Any]] = []  # the batch's items, to prepare again if the table changes

    def _error(self, key: str, index: int | None, message: str) -> None:
        self.failed += 1
        self.error_log.write(key, index, message)

    async def flush(self) -> None:
        if not self.batch:
            return
        catalog = self.request.runtime.catalog
        for attempt in range(STALE_RETRIES):
            try:
                await write_many(self.request, self.batch)  # index entries and stream records in the same transaction
                break
            except StaleSchema:  # the table changed while it was being imported: prepare the batch again
                catalog.invalidate()
                table = await catalog.get(self.table.name)
                if table is None or attempt == STALE_RETRIES - 1:
                    raise
                self.table = table
                self.batch = [_prepare(table, item) for item in self.items]
        self.imported += len(self.batch)
        self.batch.clear()
        self.items.clear()

    async def read_object(self, key: str, path: Path) -> None:
        try:
            stream, counted = import_files.open_object(path, self.compression)
        except OSError as exc:  # unreadable object: one error, then the next object
            self.processed += 1
            self._error(key, None, f"cannot read the object: {exc.strerror or exc}")
            return
        with stream:
            if self.format == "CSV":
                candidates = import_files.csv_candidates(stream, self.csv.get("Delimiter", ","),
                                                         self.csv.get("HeaderList"), self.types)
            else:
                candidates = import_files.line_candidates(stream, self.format)
            try:
                for candidate in candidates:
                    await self._take(key, candidate)
            except import_files.SourceError as exc:
                self.processed += 1
                self._error(key, None, str(exc))
            self.size += counted.count

    async def _take(self, key: str, candidate: import_files.Candidate) -> None:
        self.processed += 1
        error = candidate.error
        if candidate.item is not None:
            try:
                self.batch.append(_prepare(self.table, candidate.item))
                self.items.append(candidate.item)
            except errors.DynamoDBError as exc:
                error = exc.message or type(exc).__name__
        if error is not None:
            self._error(key, candidate.index, error)
        if len(self.batch) >= IMPORT_BATCH:
            await self.flush()
        if self.processed % IMPORT_BATCH == 0:  # also when every line is bad
            await self.heartbeat.beat(ProcessedItemCount=self.processed, ImportedItemCount=self.imported,
                                      ErrorCount=self.failed)

    def counts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ProcessedItemCount": self.processed, "ImportedItemCount": self.imported,
                               "ErrorCount": self.failed}
        if self.size:  # DynamoDB leaves it out until something was read
            out["ProcessedSizeBytes"] = self.size
        if self.failed:
            out["_error_log"] = self.error_log.key
        return out


async def run_import(runtime: Runtime, job: JobRecord) -> None:
    desc = job.description
    source = desc["S3BucketSource"]
    table = await runtime.catalog.get(desc["TableCreationParameters"]["TableName"])
    if table is None or table.description.get("TableId") != desc["TableId"]:
        await _finish(runtime, job, ("TableNotFoundException", "The table was deleted during the import"))
        return
    failure: tuple[str, str] | None = None
    try:
        bucket_path = s3paths.bucket_dir(source["S3Bucket"])
        error_log = _ErrorLog(bucket_path, source["S3Bucket"], job.arn)
        reading = _ImportPass(runtime, job, table, error_log)
        try:
            for key, path in s3paths.list_keys(bucket_path, source.get("S3KeyPrefix") or "", (ERROR_LOG_FOLDER,)):
                await reading.read_object(key, path)
            await reading.flush()
        finally:
            error_log.close()
    except s3paths.NoSuchBucket:
        failure = NO_SUCH_BUCKET
    except s3paths.OutsideRoot:
        failure = ACCESS_DENIED
    except Exception:
        log.exception("import %s failed", job.arn)
        failure = ("InternalServerError", "Internal server error")
    if failure is not None:  # DynamoDB keeps no table of an import that could not run
        await _drop(runtime, table)
        await _finish(runtime, job, failure)
        return
    await _activate(runtime, table.name)
    # Items that were no items fail the import, but the table and the good items stay (as DynamoDB).
    await _finish(runtime, job, ITEM_VALIDATION if reading.failed else None, **reading.counts())
