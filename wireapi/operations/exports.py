"""ExportTableToPointInTime, DescribeExport, ListExports.

The export itself runs in the background (wireapi.transfer.runner) and writes
DynamoDB's export layout into a folder under EXTENDDB_S3_ROOT. It reads the
table from one consistent snapshot taken when the export starts: any
ExportTime inside the recovery window exports that current state (there is no
history to go back to). INCREMENTAL_EXPORT is not offered.
"""
from __future__ import annotations

import time
from typing import Any

from .. import errors
from ..dispatch import Request
from ..transfer import jobs, s3paths

# Request members that make two exports with one ClientToken the same export.
_IDENTITY = ("TableArn", "ExportTime", "S3Bucket", "S3BucketOwner", "S3Prefix", "S3SseAlgorithm",
             "S3SseKmsKeyId", "ExportFormat", "ExportType", "IncrementalExportSpecification")
_CLOCK_SLACK_SECONDS = 1.0


def _validate(data: dict[str, Any]) -> None:
    if data.get("ExportType") == "INCREMENTAL_EXPORT" or "IncrementalExportSpecification" in data:
        raise errors.unsupported_export_option("INCREMENTAL_EXPORT")
    if "FilterSpecification" in data:
        raise errors.unsupported_export_option("FilterSpecification")
    if s3paths.prefix_problem(data.get("S3Prefix")):
        raise errors.s3_location_refused("S3Prefix", data["S3Prefix"])


async def export_table_to_point_in_time(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    _validate(data)
    table_arn = data["TableArn"]
    name = jobs.table_name_from_arn(table_arn)
    if name is None:
        raise errors.invalid_table_arn(table_arn)
    record = await req.runtime.catalog.get(name)
    if record is None or record.status == "DELETING":
        raise errors.export_table_not_found(table_arn)
    pitr = record.description.get("_pitr", {})
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise errors.pitr_not_enabled(name)
    started = jobs.now()
    export_time = data.get("ExportTime", started)
    earliest = pitr.get("EarliestRestorableDateTime", record.created_at)
    if export_time > time.time() + _CLOCK_SLACK_SECONDS or export_time < earliest - _CLOCK_SLACK_SECONDS:
        raise errors.InvalidExportTime()

    token = data.get("ClientToken") or jobs.new_id()
    identity = {k: data[k] for k in _IDENTITY if k in data}
    description: dict[str, Any] = {
        "ExportArn": f"{record.description['TableArn']}/export/{jobs.new_id()}",
        "ExportStatus": "IN_PROGRESS",
        "StartTime": started,
        "TableArn": record.description["TableArn"],
        "TableId": record.description["TableId"],
        "ExportTime": export_time,
        "ClientToken": token,
        "S3Bucket": data["S3Bucket"],
        **{k: data[k] for k in ("S3BucketOwner", "S3Prefix", "S3SseAlgorithm", "S3SseKmsKeyId") if k in data},
        "ExportFormat": data.get("ExportFormat", "DYNAMODB_JSON"),
        **({"ExportType": data["ExportType"]} if "ExportType" in data else {}),
        "_table_name": name,
        "_request": identity,
    }
    job, created = await req.runtime.backend.create_job(
        description["ExportArn"], jobs.EXPORT, started, description, token,
        started - jobs.TOKEN_WINDOW_SECONDS)
    if not created and job.description.get("_request") != identity:
        raise errors.ExportConflict()
    return {"ExportDescription": jobs.public(job.description)}


async def describe_export(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    job = await jobs.load(req.runtime.backend, data["ExportArn"], jobs.EXPORT)
    return {"ExportDescription": jobs.public(job.description)}


async def list_exports(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    limit = data.get("MaxResults", jobs.DEFAULT_PAGE)
    before = jobs.decode_token(data["NextToken"], "ListExports") if "NextToken" in data else None
    prefix = f"{data['TableArn']}/export/" if "TableArn" in data else None
    found = await req.runtime.backend.list_jobs(jobs.EXPORT, prefix, before, limit + 1)
    out: dict[str, Any] = {"ExportSummaries": [
        {"ExportArn": j.arn, "ExportStatus": j.description["ExportStatus"],
         "ExportType": j.description.get("ExportType", "FULL_EXPORT")}
        for j in found[:limit]]}
    if len(found) > limit:
        out["NextToken"] = jobs.encode_token(found[limit - 1].id)
    return out


HANDLERS = {
    "ExportTableToPointInTime": export_table_to_point_in_time,
    "DescribeExport": describe_export,
    "ListExports": list_exports,
}
