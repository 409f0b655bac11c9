"""ImportTable, DescribeImport, ListImports.

ImportTable creates the new table at once (TableStatus CREATING, so a taken
name is refused on the spot with ResourceInUseException); the background
runner (wireapi.transfer.runner) then reads the objects under the S3 root and
writes the items through the normal write path, and marks the table ACTIVE.
"""
from __future__ import annotations

import time
from typing import Any

from storage.backends.base import JobRecord, TableExists

from .. import errors
from ..dispatch import Request
from ..transfer import jobs, s3paths
from .tables import initial_description, validate_create

_RUNNING = ("IN_PROGRESS", "RUNNING")
_SUMMARY = ("ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "CloudWatchLogGroupArn", "InputFormat",
            "StartTime", "EndTime")


def _validate(data: dict[str, Any]) -> None:
    if not data.get("ClientToken"):
        # boto3 always sends one (an idempotency token); DynamoDB requires it.
        raise errors.validation_errors(
            ["Value null at 'clientToken' failed to satisfy constraint: Member must not be null"])
    if "InputFormatOptions" in data and data["InputFormat"] != "CSV":
        raise errors.csv_options_without_csv(data["InputFormat"])
    prefix = data["S3BucketSource"].get("S3KeyPrefix")
    if s3paths.prefix_problem(prefix):
        raise errors.s3_location_refused("S3KeyPrefix", prefix or "")
    validate_create(data["TableCreationParameters"])


def _log_group_arn() -> str:
    region, account = jobs.region_and_account()
    return f"arn:aws:logs:{region}:{account}:log-group:/aws-dynamodb/imports:*"


async def _running_import(req: Request, table_arn: str, token: str) -> JobRecord | None:
    for job in await req.runtime.backend.list_jobs(jobs.IMPORT, f"{table_arn}/import/", None, jobs.DEFAULT_PAGE):
        if job.status in _RUNNING and job.description.get("ClientToken") == token:
            return job
    return None


async def import_table(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    _validate(data)
    params = data["TableCreationParameters"]
    name, token = params["TableName"], data["ClientToken"]
    started = jobs.now()
    index_names = [(i["IndexName"], "GSI") for i in params.get("GlobalSecondaryIndexes") or []]
    backend = req.runtime.backend
    try:
        record = await backend.create_table(name, initial_description(params, started), "CREATING", started,
                                            index_names)
    except TableExists:
        existing = await req.runtime.catalog.get(name)
        job = await _running_import(req, existing.description["TableArn"], token) if existing else None
        if job is not None:  # the same request again while it runs: the same import
            return {"ImportTableDescription": jobs.public(job.description)}
        raise errors.table_in_use(name) from None
    req.runtime.catalog.changed()

    description: dict[str, Any] = {
        "ImportArn": f"{record.description['TableArn']}/import/{jobs.new_id()}",
        "ImportStatus": "IN_PROGRESS",
        "TableArn": record.description["TableArn"],
        "TableId": record.description["TableId"],
        "ClientToken": token,
        "S3BucketSource": data["S3BucketSource"],
        "ErrorCount": 0,
        "CloudWatchLogGroupArn": _log_group_arn(),
        "InputFormat": data["InputFormat"],
        **({"InputFormatOptions": data["InputFormatOptions"]} if "InputFormatOptions" in data else {}),
        "InputCompressionType": data.get("InputCompressionType", "NONE"),
        "TableCreationParameters": params,
        "StartTime": started,
        "ProcessedItemCount": 0,
        "ImportedItemCount": 0,
    }
    try:
        job, created = await backend.create_job(description["ImportArn"], jobs.IMPORT, started, description,
                                                token, time.time() - jobs.TOKEN_WINDOW_SECONDS)
        if not created:  # the token belongs to an import of another table
            raise errors.ImportConflict()
    except Exception:
        await backend.drop_table(record.id)  # no table without its import
        req.runtime.catalog.changed()
        raise
    return {"ImportTableDescription": jobs.public(job.description)}


async def describe_import(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    job = await jobs.load(req.runtime.backend, data["ImportArn"], jobs.IMPORT)
    return {"ImportTableDescription": jobs.public(job.description)}


async def list_imports(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return await jobs.list_page(
        req.runtime.backend, jobs.IMPORT, data, data.get("PageSize", jobs.DEFAULT_PAGE), "ListImports",
        "ImportSummaryList", lambda j: {k: j.description[k] for k in _SUMMARY if k in j.description})


HANDLERS = {
    "ImportTable": import_table,
    "DescribeImport": describe_import,
    "ListImports": list_imports,
}
