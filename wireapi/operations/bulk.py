"""StartBulkPutItems, DescribeBulkOperation, ListBulkOperations, CancelBulkOperation.

A bulk put reads DYNAMODB_JSON or ION objects from a bucket folder (as ImportTable
reads them) and writes the items into an existing table in the background
(wireapi.transfer.bulk), through the normal write path. Cancelling stops it at
the next batch; items already written stay. The operation ARN is
<table ARN>/bulk-operation/<id> (DynamoDB's form is not published).
"""
from __future__ import annotations

from typing import Any

from storage.backends.base import JobRecord

from .. import errors
from ..dispatch import Request
from ..transfer import jobs, s3paths
from .tables import get_table

DEFAULT_PAGE = 10
_IDENTITY = ("TableName", "InputS3Configuration", "OutputS3Configuration", "MaxWriteRequestUnits",
             "PerformanceTier")
_TERMINAL = ("COMPLETED", "COMPLETED_WITH_ERRORS", "CANCELLED", "FAILED")


def _not_found(arn: str) -> errors.ResourceNotFound:
    return errors.ResourceNotFound(f"Requested resource not found: Bulk operation {arn} not found")


def public(job: JobRecord) -> dict[str, Any]:
    """The description as the API shows it, with the runner's cancellation state folded in."""
    out = jobs.public(job.description)
    if out.get("BulkOperationStatus") not in _TERMINAL:
        if job.status == "CANCELLED":  # cancelled before a runner took it
            out.update(BulkOperationStatus="CANCELLED", EndTime=job.updated_at)
        elif job.status == "CANCELLING":
            out["BulkOperationStatus"] = "CANCELLING"
    return out


async def _load(req: Request, arn: str) -> JobRecord:
    job = await req.runtime.backend.load_job(arn)
    if job is None or job.kind != jobs.BULK:
        raise _not_found(arn)
    return job


async def start_bulk_put_items(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    source, output = data["InputS3Configuration"], data["OutputS3Configuration"]
    for member, config in (("InputS3Configuration.S3KeyPrefix", source),
                           ("OutputS3Configuration.S3KeyPrefix", output)):
        if s3paths.prefix_problem(config.get("S3KeyPrefix")):
            raise errors.s3_location_refused(member, config["S3KeyPrefix"])
    table = await get_table(req, data["TableName"], named=True)
    if table.status != "ACTIVE":
        raise errors.ResourceInUse(f"Table is being modified: {table.name}")
    started = jobs.now()
    token = data.get("ClientToken") or jobs.new_id()
    identity = {k: data[k] for k in _IDENTITY if k in data}
    arn = f"{table.description['TableArn']}/bulk-operation/{jobs.new_id()}"
    description: dict[str, Any] = {
        "BulkOperationArn": arn,
        "BulkOperationStatus": "IN_PROGRESS",
        "TableDetails": [{"TableName": table.name, "TableId": table.description["TableId"]}],
        "ClientToken": token,
        "InputS3Configuration": source,
        "OutputS3Configuration": output,
        "StartTime": started,
        "ProcessedItemCount": 0,
        "ProcessedInputBytes": 0,
        "FailedItemCount": 0,
        "PerformanceTier": data.get("PerformanceTier", "STANDARD"),
        **({"MaxWriteRequestUnits": data["MaxWriteRequestUnits"]} if "MaxWriteRequestUnits" in data else {}),
        "_table_name": table.name,
        "_request": identity,
    }
    job, created = await req.runtime.backend.create_job(arn, jobs.BULK, started, description, token,
                                                        started - jobs.TOKEN_WINDOW_SECONDS)
    if not created and job.description.get("_request") != identity:
        raise errors.IdempotentParameterMismatch(
            "The ClientToken was used with different parameters in the last 8 hours")
    return {"BulkOperationDescription": public(job)}


async def describe_bulk_operation(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return {"BulkOperationDescription": public(await _load(req, data["BulkOperationArn"]))}


async def list_bulk_operations(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    limit = data.get("MaxResults", DEFAULT_PAGE)
    before = jobs.decode_token(data["NextToken"], "ListBulkOperations") if "NextToken" in data else None
    found = await req.runtime.backend.list_jobs(jobs.BULK, None, before, limit + 1)
    summaries = []
    for job in found[:limit]:
        desc = public(job)
        summaries.append({k: desc[k] for k in ("BulkOperationArn", "BulkOperationStatus", "StartTime", "EndTime")
                          if k in desc})
    out: dict[str, Any] = {"BulkOperationsSummaryList": summaries}
    if len(found) > limit:
        out["NextToken"] = jobs.encode_token(found[limit - 1].id)
    return out


async def cancel_bulk_operation(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    arn = data["BulkOperationArn"]
    job = await _load(req, arn)
    status = await req.runtime.backend.cancel_job(job.id, jobs.now())
    if status is None:  # it had ended: the answer is its status
        return {"BulkOperationArn": arn, "BulkOperationStatus": public(await _load(req, arn))["BulkOperationStatus"]}
    return {"BulkOperationArn": arn, "BulkOperationStatus": "CANCELLING"}


HANDLERS = {
    "StartBulkPutItems": start_bulk_put_items,
    "DescribeBulkOperation": describe_bulk_operation,
    "ListBulkOperations": list_bulk_operations,
    "CancelBulkOperation": cancel_bulk_operation,
}
