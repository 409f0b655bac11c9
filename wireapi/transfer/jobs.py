"""What exports and imports share: ids and ARNs as DynamoDB forms them,
ClientToken windows, the public part of a job description, list tokens."""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any

from django.conf import settings

from storage.backends.base import JobRecord, StorageBackend

from .. import errors

EXPORT, IMPORT = "EXPORT", "IMPORT"
# A point-in-time restore (wireapi.transfer.restore) and a bulk put (wireapi.transfer.bulk).
RESTORE, BULK = "RESTORE", "BULK"
# "A client token is valid for 8 hours after the first request that uses it."
TOKEN_WINDOW_SECONDS = 8 * 3600
DEFAULT_PAGE = 25

_JOB_ARN = re.compile(
    r"^arn:aws:dynamodb:(?P<region>[^:]+):(?P<account>[^:]+):table/(?P<table>[a-zA-Z0-9_.-]{3,255})"
    r"/(?P<kind>export|import)/(?P<id>[0-9]{14}-[0-9a-f]{8})$")
_TABLE_ARN = re.compile(r"^arn:aws:dynamodb:[^:]+:[^:]+:table/(?P<table>[a-zA-Z0-9_.-]{3,255})$")


def new_id() -> str:
    """DynamoDB's shape: 14 digits of epoch milliseconds, a dash, 8 hex digits."""
    return f"{int(time.time() * 1000):014d}-{secrets.token_hex(4)}"


def table_name_from_arn(arn: str) -> str | None:
    match = _TABLE_ARN.match(arn)
    return match.group("table") if match else None


def parse_job_arn(arn: str, kind: str) -> str | None:
    """The table name of a well-formed export/import ARN of this server, else None."""
    match = _JOB_ARN.match(arn)
    if match is None or match.group("kind") != kind.lower():
        return None
    return match.group("table")


def public(description: dict[str, Any]) -> dict[str, Any]:
    """The description without the runner's private "_" keys."""
    return {k: v for k, v in description.items() if not k.startswith("_")}


def iso(epoch: float) -> str:
    """Manifest timestamps: 2020-11-04T07:28:34.028Z."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now() -> float:
    return round(time.time(), 3)


def encode_token(job_id: int) -> str:
    """A list NextToken: hex digits in 16-digit groups, at least 112 of them
    (ListImports' NextToken pattern and minimum length)."""
    return f"{job_id:016x}" + secrets.token_hex(48)


def decode_token(token: str, operation: str) -> int:
    if len(token) < 112 or len(token) % 16 or not re.fullmatch(r"[0-9a-f]+", token):
        raise errors.invalid_next_token(operation, token)
    return int(token[:16], 16)


async def list_page(backend: StorageBackend, kind: str, data: dict[str, Any], limit: int, operation: str,
                    key: str, summary: Callable[[JobRecord], dict[str, Any]]) -> dict[str, Any]:
    """A ListExports/ListImports answer: one page of the kind's jobs (of data's TableArn, if
    given), newest first, as `summary` shows them under `key`, and a NextToken if more remain."""
    before = decode_token(data["NextToken"], operation) if "NextToken" in data else None
    prefix = f"{data['TableArn']}/{kind.lower()}/" if "TableArn" in data else None
    found = await backend.list_jobs(kind, prefix, before, limit + 1)
    out: dict[str, Any] = {key: [summary(j) for j in found[:limit]]}
    if len(found) > limit:
        out["NextToken"] = encode_token(found[limit - 1].id)
    return out


def region_and_account() -> tuple[str, str]:
    return settings.EXTENDDB_REGION, settings.EXTENDDB_ACCOUNT_ID


_INVALID_ARN = {EXPORT: errors.INVALID_EXPORT_ARN, IMPORT: errors.INVALID_IMPORT_ARN}
_NOT_FOUND = {EXPORT: errors.export_not_found, IMPORT: errors.import_not_found}


async def load(backend: StorageBackend, arn: str, kind: str) -> JobRecord:
    """The export or import an ARN names, or DynamoDB's error for a bad or unknown ARN."""
    if parse_job_arn(arn, kind) is None:
        raise errors.ValidationException(_INVALID_ARN[kind])
    job = await backend.load_job(arn)
    if job is None or job.kind != kind:
        raise _NOT_FOUND[kind](arn)
    return job
