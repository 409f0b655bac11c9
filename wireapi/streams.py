"""DynamoDB Streams pieces shared by the write path and the Streams operations:
building stream records, sequence-number and shard-id text, shard iterators.

A record is stored as its "dynamodb" member without SequenceNumber (the
number is only known inside the writer's transaction); readers add it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from django.conf import settings

from storage.backends import TableRecord

from . import errors, values

RETENTION_SECONDS = 24 * 3600
# Sequence numbers are written as 10**20 + n: 21 digits (the shortest DynamoDB
# accepts), ordered alike as numbers and as strings.
_SEQ_BASE = 10 ** 20
TTL_IDENTITY = orjson.dumps({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})


# --- records -------------------------------------------------------------------

def stream_of(table: TableRecord) -> tuple[str, str] | None:
    """(stream ARN, view type) of the table's enabled stream, or None."""
    spec = table.description.get("StreamSpecification")
    if not spec or not spec.get("StreamEnabled"):
        return None
    return table.description["LatestStreamArn"], spec["StreamViewType"]


def event_name(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    if old is None:
        return "INSERT"
    return "REMOVE" if new is None else "MODIFY"


def record_body(key_names: tuple[str, ...], view_type: str, old: dict[str, Any] | None,
                new: dict[str, Any] | None, now: float) -> bytes:
    """The record's "dynamodb" member, as DynamoDB Streams shapes it per view type."""
    item = new if new is not None else old
    assert item is not None
    keys = {name: item[name] for name in key_names if name in item}
    body: dict[str, Any] = {"ApproximateCreationDateTime": int(now), "Keys": keys}
    size = values.item_size(keys)
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["NewImage"] = new
        size += values.item_size(new)
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        body["OldImage"] = old
        size += values.item_size(old)
    body["SizeBytes"] = size
    body["StreamViewType"] = view_type
    return orjson.dumps(body)


def wire_record(stream_arn: str, seq: int, name: str, body: bytes, identity: bytes | None) -> dict[str, Any]:
    dynamodb = orjson.loads(body)
    dynamodb["SequenceNumber"] = format_seq(seq)
    record: dict[str, Any] = {
        # Stable across reads without storing it: derived from the stream and number.
        "eventID": hashlib.md5(f"{stream_arn}#{seq}".encode(), usedforsecurity=False).hexdigest(),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": settings.EXTENDDB_REGION,
        "dynamodb": dynamodb,
    }
    if identity is not None:
        record["userIdentity"] = orjson.loads(identity)
    return record


def same_item(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """DynamoDB's equality of items (numbers by value, sets unordered): a write
    that changes nothing emits no record."""
    return a.keys() == b.keys() and all(values.values_equal(a[name], b[name]) for name in a)


# --- sequence numbers and shards ---------------------------------------------------

def format_seq(seq: int) -> str:
    return str(_SEQ_BASE + seq)


def parse_seq(text: str) -> int | None:
    if not text.isdigit() or len(text) != 21 or not text.startswith("1"):
        return None
    return int(text) - _SEQ_BASE


def shard_id(stream_arn: str, created_at: float) -> str:
    """The stream's one shard, in DynamoDB's shardId-<20 digits>-<8 hex> form."""
    digest = hashlib.sha256(stream_arn.encode()).hexdigest()[:8]
    return f"shardId-{int(created_at * 1000):020d}-{digest}"


# --- shard iterators -----------------------------------------------------------------

@dataclass(frozen=True)
class Iterator:
    stream_id: int
    position: int  # next sequence number to read; 0 = the oldest record still kept
    issued_at: float


@cache
def _iterator_key() -> bytes:
    return hashlib.sha256(b"extenddb shard iterator\0" + settings.SECRET_KEY.encode()).digest()


def _mac(payload: bytes) -> bytes:
    return hmac.new(_iterator_key(), payload, hashlib.sha256).digest()[:16]


def encode_iterator(stream_arn: str, stream_id: int, position: int, now: float | None = None) -> str:
    """Opaque to clients; signed so that a forged position is rejected."""
    issued = int((now if now is not None else time.time()) * 1000)
    payload = f"{stream_id}.{position}.{issued}".encode()
    token = base64.urlsafe_b64encode(payload + b"." + _mac(payload)).decode().rstrip("=")
    return f"{stream_arn}|1|{token}"


def decode_iterator(text: str) -> Iterator:
    token = text.rpartition("|")[2]
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, mac = raw[:-17], raw[-16:]
        if raw[-17:-16] != b"." or not hmac.compare_digest(mac, _mac(payload)):
            raise ValueError
        stream_id, position, issued = (int(p) for p in payload.decode().split("."))
    except (ValueError, UnicodeDecodeError):
        raise errors.ValidationException("Invalid ShardIterator") from None
    return Iterator(stream_id, position, issued / 1000)


def iterator_lifetime() -> float:
    return float(settings.EXTENDDB_STREAM_ITERATOR_SECONDS)
