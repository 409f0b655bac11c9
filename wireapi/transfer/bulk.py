"""The background half of StartBulkPutItems (a BULK job of the transfer runner).

Objects under the input prefix are read as ImportTable reads them (DYNAMODB_JSON
or ION lines, GZIP/ZSTD/NONE) and their items written through the normal write
path (indexes, streams and PITR history in the same transactions): items without
a condition 100 per transaction, an item whose DYNAMODB_JSON line carries a
ConditionExpression (with ExpressionAttributeNames/Values) alone, checked against
the stored item under its row lock. MaxWriteRequestUnits caps the write units per
second. Progress is saved after every batch, only while the job is still RUNNING:
a CancelBulkOperation turns it CANCELLING, and the next save stops the run
(already-written items stay).

Output (the OutputType list): one JSON line per bad input record in
<prefix>/AWSDynamoDB/bulk-operations/<id>/ERROR.jsonl and per failed condition in
.../CONDITION_CHECK_FAILURE.jsonl (with the existing item), in the output bucket.
"""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

import orjson

from storage.backends.base import JobRecord, TableRecord

from .. import capacity, errors, expressions, indexes, values
from ..dispatch import Request
from ..keys import key_from_item
from ..operations.items import PreparedWrite, check_condition, write_item, write_many
from ..runtime import Runtime
from . import import_files, jobs, s3paths

log = logging.getLogger("extenddb.transfer")

BATCH = 100
OUTPUT_FOLDER = "AWSDynamoDB/bulk-operations"


class _Output:
    """The records the OutputType list asks for, one JSON line each, opened on first use."""

    def __init__(self, folder: Path | None, wanted: list[str], bucket: str, arn: str) -> None:
        self._folder, self._wanted, self._bucket, self._arn = folder, set(wanted), bucket, arn
        self._files: dict[str, Any] = {}

    def write(self, kind: str, entry: dict[str, Any]) -> None:
        if self._folder is None or kind not in self._wanted:
            return
        try:
            if kind not in self._files:
                self._folder.mkdir(parents=True, exist_ok=True)
                self._files[kind] = open(self._folder / f"{kind}.jsonl", "ab")
            self._files[kind].write(orjson.dumps({"bulkOperationArn": self._arn, **entry}) + b"\n")
        except OSError as exc:
            log.warning("bulk operation %s: cannot write its %s output: %s", self._arn, kind, exc)

    def close(self) -> None:
        for f in self._files.values():
            f.close()


class _Rate:
    """At most `units` write units a second (None: no cap)."""

    def __init__(self, units: int | None) -> None:
        self._units, self._start, self._spent = units, time.monotonic(), 0.0

    async def spend(self, units: float) -> None:
        if self._units is None:
            return
        self._spent += units
        ahead = self._spent / self._units - (time.monotonic() - self._start)
        if ahead > 0:
            await asyncio.sleep(ahead)


def _prepare(table: TableRecord, candidate: import_files.Candidate) -> tuple[PreparedWrite, bool]:
    """Validate a line as PutItem validates its Item (DynamoDBError if it is none), with the
    line's own condition: (the write, whether it has a condition). Its size is blind_size."""
    item = values.validate_item(candidate.item)
    size = values.check_item_size(item)
    pk, sk = key_from_item(table.extra["schema"], item)
    indexes.check_index_keys(table.extra["indexes"], item)
    spec = candidate.condition or {}
    condition = None
    if "ConditionExpression" in spec:
        attrs = expressions.ExpressionAttributes(spec.get("ExpressionAttributeNames"),
                                                 spec.get("ExpressionAttributeValues"))
        condition = expressions.parse_condition(spec["ConditionExpression"], attrs, "ConditionExpression")
        attrs.check_unused()

    def decide(old: dict[str, Any] | None, new: dict[str, Any] = item) -> tuple[dict[str, Any], None]:
        check_condition(condition, old, {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
        return new, None

    key = {n: item[n] for n in table.extra["schema"].names}
    return PreparedWrite(table, pk, sk, key, decide, blind_size=size), condition is not None


class _BulkPass:
    def __init__(self, runtime: Runtime, job: JobRecord, table: TableRecord, output: _Output) -> None:
        self.runtime, self.job, self.table, self.output = runtime, job, table, output
        desc = job.description
        self.format = desc["InputS3Configuration"]["InputFormat"]
        self.compression = desc["InputS3Configuration"].get("InputCompressionType", "NONE")
        self.request = Request(runtime, None, f"bulk-{job.id}")  # type: ignore[arg-type] - no caller's key
        self.rate = _Rate(desc.get("MaxWriteRequestUnits"))
        self.batch: list[PreparedWrite] = []
        self.processed = self.failed = self.bytes = self.written_bytes = 0
        self.cancelled = False

    async def _save(self) -> None:
        self.job.description.update(ProcessedItemCount=self.processed, FailedItemCount=self.failed,
                                    ProcessedInputBytes=self.bytes)
        self.job.updated_at = jobs.now()
        if not await self.runtime.backend.save_running_job(self.job):
            self.cancelled = True

    async def flush(self) -> None:
        if self.batch:
            writes, self.batch = self.batch, []
            await write_many(self.request, writes)
            await self._account(writes)
        await self._save()

    async def _account(self, writes: list[PreparedWrite]) -> None:
        units = 0.0
        for write in writes:
            size = write.blind_size
            self.written_bytes += size
            units += capacity.write_units(size)
        await self.rate.spend(units)

    async def take(self, key: str, candidate: import_files.Candidate) -> None:
        self.processed += 1
        error = candidate.error
        write, conditional = None, False
        if candidate.item is not None:
            try:
                write, conditional = _prepare(self.table, candidate)
            except errors.DynamoDBError as exc:
                error = exc.message or type(exc).__name__
        if error is not None or write is None:
            self.failed += 1
            self.output.write("ERROR", {"itemS3Pointer": {"bucket": self.job.description["InputS3Configuration"]
                                                          ["S3Bucket"], "key": key, "itemIndex": candidate.index},
                                        "errorMessages": [error]})
        elif conditional:  # alone, its condition checked under the row lock
            try:
                await write_item(self.request, self.table, write.pk, write.sk, write.decide)
                await self._account([write])
            except errors.ConditionalCheckFailed as exc:
                self.output.write("CONDITION_CHECK_FAILURE", {
                    "item": candidate.item, "existingItem": exc.extra.get("Item"),
                    "itemS3Pointer": {"key": key, "itemIndex": candidate.index}})
        else:
            self.batch.append(write)
        if len(self.batch) >= BATCH or (self.processed % BATCH == 0):
            await self.flush()

    async def read_object(self, key: str, path: Path) -> None:
        try:
            stream, counted = import_files.open_object(path, self.compression)
        except OSError as exc:
            self.processed += 1
            self.failed += 1
            self.output.write("ERROR", {"itemS3Pointer": {"key": key}, "errorMessages": [str(exc)]})
            return
        with stream:
            try:
                for candidate in import_files.line_candidates(stream, self.format, conditions=True):
                    await self.take(key, candidate)
                    if self.cancelled:
                        return
            except import_files.SourceError as exc:
                self.processed += 1
                self.failed += 1
                self.output.write("ERROR", {"itemS3Pointer": {"key": key}, "errorMessages": [str(exc)]})
            self.bytes += counted.count


async def _end(runtime: Runtime, job: JobRecord, status: str, failure: tuple[str, str] | None = None,
               **fields: Any) -> None:
    job.status = "FAILED" if status == "FAILED" else "COMPLETED"
    job.updated_at = jobs.now()
    job.description.update(fields, BulkOperationStatus=status, EndTime=job.updated_at)
    if failure:
        job.description["FailureCode"], job.description["FailureMessage"] = failure
    await runtime.backend.save_job(job)


async def run_bulk(runtime: Runtime, job: JobRecord, finish: Any, heartbeat: Any) -> None:
    desc = job.description
    table = await runtime.catalog.get(desc["_table_name"])
    if table is None or table.description.get("TableId") != desc["TableDetails"][0]["TableId"]:
        await _end(runtime, job, "FAILED", ("ResourceNotFoundException", "The table was deleted"))
        return
    source, target = desc["InputS3Configuration"], desc["OutputS3Configuration"]
    try:
        bucket_path = s3paths.bucket_dir(source["S3Bucket"])
        out_folder = None
        if target.get("S3Bucket"):
            out_bucket = s3paths.bucket_dir(target["S3Bucket"])
            out_folder = s3paths.key_path(out_bucket, s3paths.join_key(
                target.get("S3KeyPrefix"), OUTPUT_FOLDER, job.arn.rpartition("/")[2]))
        objects = list(s3paths.list_keys(bucket_path, source.get("S3KeyPrefix") or "", ("AWSDynamoDB/",)))
    except s3paths.NoSuchBucket:
        await _end(runtime, job, "FAILED", ("S3NoSuchBucket", "The specified bucket does not exist"))
        return
    except s3paths.OutsideRoot:
        await _end(runtime, job, "FAILED", ("S3AccessDenied", "Access Denied"))
        return
    desc["TotalInputBytes"] = sum(path.stat().st_size for _, path in objects)
    output = _Output(out_folder, target.get("OutputType", []), target.get("S3Bucket", ""), job.arn)
    work = _BulkPass(runtime, job, table, output)
    try:
        for key, path in objects:
            await work.read_object(key, path)
            if work.cancelled:
                break
        if not work.cancelled:
            await work.flush()
    finally:
        output.close()
    usage = {"TableName": table.name, "BulkPutBytes": work.written_bytes,
             "Table": {"BulkPutBytes": work.written_bytes}}
    counts = {"ProcessedItemCount": work.processed, "FailedItemCount": work.failed,
              "ProcessedInputBytes": work.bytes, "BulkOperationUsage": [usage]}
    if work.cancelled:
        await _end(runtime, job, "CANCELLED", ("BulkOperationCancelled",
                                               "The bulk operation was cancelled by CancelBulkOperation"), **counts)
    else:
        await _end(runtime, job, "COMPLETED_WITH_ERRORS" if work.failed else "COMPLETED", **counts)
