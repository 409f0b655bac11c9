"""TagResource, UntagResource, ListTagsOfResource, and CreateTable's Tags.

Tags belong to a table ARN (storage.models.Tag). DynamoDB checks the ARN
first, then the tags, then that the table exists; every failure writes
nothing. Messages (including DynamoDB's own spelling "Atleast") are the
service's.
"""
from __future__ import annotations

import base64
import binascii
import unicodedata
from typing import Any

from django.conf import settings

from .. import errors
from ..dispatch import Request

MAX_TAGS = 50
_INVALID = "One or more parameter values were invalid: "
# Besides letters, digits and spaces (in any script), tags may hold these.
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
TOO_MANY_TAGS = "Number of Tags exceed the current limit for the provided ResourceArn"


def _allowed(text: str) -> bool:
    return all(c in _TAG_PUNCTUATION or unicodedata.category(c)[0] in "LNZ" for c in text)


def validate_tags(tags: list[dict[str, str]]) -> list[tuple[str, str]]:
    """DynamoDB's checks of a Tags list (CreateTable, TagResource), as (key, value) pairs."""
    seen: set[str] = set()
    pairs = []
    for tag in tags:
        key, value = tag["Key"], tag["Value"]
        if not key or not _allowed(key):
            raise errors.ValidationException(f"The Tag Key provided is invalid, Key: {key}")
        if not _allowed(value):
            raise errors.ValidationException(f"The Tag Value provided is invalid, Value: {value}")
        if key.lower().startswith("aws:"):
            raise errors.ValidationException(f"Tag Key cannot be prefixed with aws:, Key: {key}")
        if key in seen:
            raise errors.ValidationException(
                f"Duplicate Tag Keys provided as input: Duplicate Tag Key found {key}")
        seen.add(key)
        pairs.append((key, value))
    if len(pairs) > MAX_TAGS:
        raise errors.ValidationException(TOO_MANY_TAGS)
    return pairs


def check_arn(arn: str) -> str:
    """The table name a taggable ARN names, or DynamoDB's error for the ARN."""
    if not arn.startswith("arn:"):
        raise errors.ValidationException(_INVALID + f"ARNs must start with 'arn:': {arn}")
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "dynamodb":
        raise errors.ValidationException(_INVALID + f"Provided Arn is not a DynamoDB resource arn: {arn}")
    resource = parts[5].split("/")
    if resource[0] != "table" or len(resource) < 2 or (len(resource) > 2 and resource[2] != "stream"):
        raise errors.ValidationException(
            _INVALID + f"Invalid resource arn provided, only table or stream is accepted. "
            f"Provided resource arn: {arn}")
    name = resource[1]
    if (parts[1] != "aws" or parts[3] != settings.EXTENDDB_REGION or parts[4] != settings.EXTENDDB_ACCOUNT_ID
            or not 3 <= len(name) <= 255):
        raise errors.ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    return name


async def _existing_table(req: Request, arn: str, name: str) -> str:
    """The table's own ARN (a stream ARN's tags are its table's)."""
    record = await req.runtime.catalog.get(name)
    if record is None or record.status == "DELETING":
        raise errors.ResourceNotFound(f"Requested resource not found: ResourceArn: {arn} not found")
    return record.description["TableArn"]


async def tag_resource(req: Request, data: dict[str, Any]) -> bytes:
    arn = data["ResourceArn"]
    name = check_arn(arn)
    if not data["Tags"]:
        raise errors.ValidationException("Atleast one Tag needs to be provided as Input.")
    pairs = validate_tags(data["Tags"])
    table_arn = await _existing_table(req, arn, name)
    if not await req.runtime.backend.tag_resource(table_arn, pairs, MAX_TAGS):
        raise errors.ValidationException(TOO_MANY_TAGS)
    return b""  # DynamoDB answers with an empty body (no output shape)


async def untag_resource(req: Request, data: dict[str, Any]) -> bytes:
    arn = data["ResourceArn"]
    name = check_arn(arn)
    keys = data["TagKeys"]
    if not keys:
        raise errors.ValidationException("Atleast one Tag Key needs to be provided as Input.")
    for key in keys:
        if not key or not _allowed(key):
            raise errors.ValidationException(f"The Tag Key provided is invalid, Key: {key}")
    if len(keys) > MAX_TAGS:
        raise errors.ValidationException(TOO_MANY_TAGS)
    table_arn = await _existing_table(req, arn, name)
    await req.runtime.backend.untag_resource(table_arn, list(dict.fromkeys(keys)))
    return b""  # DynamoDB answers with an empty body (no output shape)


def _token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def _after(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.ValidationException(f"Invalid NextToken: {token}") from None


# Every tag a table can carry fits in one page; NextToken is still honoured.
PAGE_SIZE = MAX_TAGS


async def list_tags_of_resource(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    arn = data["ResourceArn"]
    name = check_arn(arn)
    table_arn = await _existing_table(req, arn, name)
    tags = sorted(await req.runtime.backend.list_tags(table_arn))  # code-point order, whatever the collation
    if data.get("NextToken"):
        after = _after(data["NextToken"])
        tags = [t for t in tags if t[0] > after]
    out: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in tags[:PAGE_SIZE]]}
    if len(tags) > PAGE_SIZE:
        out["NextToken"] = _token(tags[PAGE_SIZE - 1][0])
    return out


# --- hooks for CreateTable and DeleteTable ---------------------------------------

def validate_create_tags(data: dict[str, Any]) -> list[tuple[str, str]]:
    """CreateTable's Tags, checked before the table exists (an empty list is fine)."""
    return validate_tags(data.get("Tags") or [])


async def tag_new_table(req: Request, table_arn: str, pairs: list[tuple[str, str]]) -> None:
    if pairs:
        await req.runtime.backend.tag_resource(table_arn, pairs, MAX_TAGS)


HANDLERS = {
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsOfResource": list_tags_of_resource,
}
