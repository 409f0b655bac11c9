"""ExportTableToPointInTime, DescribeExport, ListExports.

The export itself runs in the background (wireapi.transfer.runner) and writes
DynamoDB's export layout into a folder under EXTENDDB_S3_ROOT. It reads the
table's point-in-time history (wireapi.pitr): a FULL_EXPORT is the table as of
ExportTime, an INCREMENTAL_EXPORT the items written in [ExportFromTime,
ExportToTime) with their images at both ends.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

from .. import errors
from .. import pitr as pitr_window
from ..dispatch import Request
from ..transfer import jobs, s3paths

# Request members that make two exports with one ClientToken the same export.
_IDENTITY = ("TableArn", "ExportTime", "S3Bucket", "S3BucketOwner", "S3Prefix", "S3SseAlgorithm",
             "S3SseKmsKeyId", "ExportFormat", "ExportType", "IncrementalExportSpecification")
_CLOCK_SLACK_SECONDS = 1.0


_MAX_INCREMENTAL_SECONDS = 24 * 3600  # "a window of 15 minutes to 24 hours"


def _validate(data: dict[str, Any]) -> None:
    incremental = data.get("ExportType") == "INCREMENTAL_EXPORT"
    if incremental and "IncrementalExportSpecification" not in data:
        raise errors.ValidationException("IncrementalExportSpecification must be provided for INCREMENTAL_EXPORT")
    if incremental and "ExportTime" in data:
        raise errors.ValidationException("ExportTime cannot be provided for INCREMENTAL_EXPORT")
    if not incremental and "IncrementalExportSpecification" in data:
        raise errors.ValidationException("IncrementalExportSpecification is only valid for INCREMENTAL_EXPORT")
    if incremental and "ExportFromTime" not in data["IncrementalExportSpecification"]:
        raise errors.ValidationException("ExportFromTime must be provided for INCREMENTAL_EXPORT")
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
    now = await req.runtime.backend.clock()
    earliest, _ = pitr_window.window(pitr["EnabledAt"], pitr.get("RecoveryPeriodInDays",
                                                                  pitr_window.DEFAULT_RECOVERY_DAYS), now)
    export_time = data.get("ExportTime", now)
    if export_time > now + _CLOCK_SLACK_SECONDS or export_time < earliest:
        raise errors.InvalidExportTime()
    incremental: dict[str, Any] = {}
    if data.get("ExportType") == "INCREMENTAL_EXPORT":
        spec = data["IncrementalExportSpecification"]
        since, until = spec["ExportFromTime"], spec.get("ExportToTime", now)
        span = until - since
        if (since < earliest or until > now + _CLOCK_SLACK_SECONDS
                or span < settings.EXTENDDB_INCREMENTAL_EXPORT_MIN_SECONDS or span > _MAX_INCREMENTAL_SECONDS):
            raise errors.InvalidExportTime()
        incremental["IncrementalExportSpecification"] = {
            "ExportFromTime": since, "ExportToTime": until,
            "ExportViewType": spec.get("ExportViewType", "NEW_AND_OLD_IMAGES")}

    token = data.get("ClientToken") or jobs.new_id()
    identity = {k: data[k] for k in _IDENTITY if k in data}
    description: dict[str, Any] = {
        "ExportArn": f"{record.description['TableArn']}/export/{jobs.new_id()}",
        "ExportStatus": "IN_PROGRESS",
        "StartTime": started,
        "TableArn": record.description["TableArn"],
        "TableId": record.description["TableId"],
        **({} if incremental else {"ExportTime": export_time}),
        **incremental,
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
    return await jobs.list_page(
        req.runtime.backend, jobs.EXPORT, data, data.get("MaxResults", jobs.DEFAULT_PAGE), "ListExports",
        "ExportSummaries", lambda j: {"ExportArn": j.arn, "ExportStatus": j.description["ExportStatus"],
                                      "ExportType": j.description.get("ExportType", "FULL_EXPORT")})


HANDLERS = {
    "ExportTableToPointInTime": export_table_to_point_in_time,
    "DescribeExport": describe_export,
    "ListExports": list_exports,
}
