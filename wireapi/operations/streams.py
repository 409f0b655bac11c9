"""DynamoDB Streams: ListStreams, DescribeStream, GetShardIterator, GetRecords.

Each stream has one shard that never splits. Sequence numbers have no gaps
(they are taken inside the writer's transaction), which lets a reader tell
trimmed records from records not yet written without a second query.
"""
from __future__ import annotations

import re
import time
from email.utils import formatdate
from typing import Any

from storage.backends.base import StreamInfo

from .. import errors, streams
from ..dispatch import Request

MAX_LIST_LIMIT = 100
MAX_RECORDS_LIMIT = 1000
MAX_RECORDS_BYTES = 1024 * 1024
_STREAM_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table/[^/]+/stream/[^/]+")


def _check_limit(data: dict[str, Any], maximum: int) -> int:
    limit = data.get("Limit", maximum)
    if limit > maximum:
        raise errors.validation_errors([
            f"Value '{limit}' at 'limit' failed to satisfy constraint: "
            f"Member must have value less than or equal to {maximum}"])
    return limit


def _live(stream: StreamInfo | None, now: float) -> bool:
    """Disabled streams stay readable for the retention period."""
    return stream is not None and (stream.status == "ENABLED" or
                                   (stream.disabled_at or 0) > now - streams.RETENTION_SECONDS)


def _check_arn(arn: str) -> None:
    """A malformed ARN is a ValidationException; a well-formed unknown one is not found."""
    if not _STREAM_ARN.fullmatch(arn):
        raise errors.ValidationException(f"Invalid StreamArn: {arn}")


async def _load(req: Request, arn: str) -> StreamInfo:
    _check_arn(arn)
    stream = await req.runtime.backend.load_stream(arn=arn)
    if stream is None or not _live(stream, time.time()):
        raise errors.stream_not_found(arn)
    return stream


async def list_streams(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    limit = _check_limit(data, MAX_LIST_LIMIT)
    after_id = None
    if "ExclusiveStartStreamArn" in data:
        after_id = (await _load(req, data["ExclusiveStartStreamArn"])).id
    found = await req.runtime.backend.list_streams(
        data.get("TableName"), after_id, limit + 1, time.time() - streams.RETENTION_SECONDS)
    out: dict[str, Any] = {"Streams": [
        {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label} for s in found[:limit]]}
    if len(found) > limit:
        out["LastEvaluatedStreamArn"] = found[limit - 1].arn
    return out


async def describe_stream(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    _check_limit(data, MAX_LIST_LIMIT)
    shard_filter = data.get("ShardFilter")
    if shard_filter is not None:
        missing = [m for m, k in (("shardFilter.type", "Type"), ("shardFilter.shardId", "ShardId"))
                   if shard_filter.get(k) is None]
        if missing:
            raise errors.shard_filter_incomplete(missing)
    stream = await _load(req, data["StreamArn"])
    shard_id = streams.shard_id(stream.arn, stream.created_at)
    low, _ = await req.runtime.backend.stream_seq_bounds(stream.id)
    seq_range = {"StartingSequenceNumber": streams.format_seq(low if low is not None else stream.next_seq)}
    if stream.status == "DISABLED":
        seq_range["EndingSequenceNumber"] = streams.format_seq(stream.next_seq - 1)  # the last one taken
    # Shards are listed in id order after ExclusiveStartShardId. The one shard
    # never splits: it has no child shards for a ShardFilter to find.
    after = data.get("ExclusiveStartShardId")
    shards = [] if (after is not None and shard_id <= after) or data.get("ShardFilter") else [
        {"ShardId": shard_id, "SequenceNumberRange": seq_range}]
    return {"StreamDescription": {
        "StreamArn": stream.arn,
        "StreamLabel": stream.label,
        "StreamStatus": stream.status,
        "StreamViewType": stream.view_type,
        "CreationRequestDateTime": stream.created_at,
        "TableName": stream.table_name,
        "KeySchema": stream.key_schema,
        "Shards": shards,
    }}


async def get_shard_iterator(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    stream = await _load(req, data["StreamArn"])
    if data["ShardId"] != streams.shard_id(stream.arn, stream.created_at):
        raise errors.ResourceNotFound(f"Requested resource not found: Shard does not exist: {data['ShardId']}")
    kind = data["ShardIteratorType"]
    by_number = kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
    if "SequenceNumber" in data and not by_number:
        raise errors.ValidationException(
            f"SequenceNumber should not be specified when ShardIteratorType is {kind}")
    if kind == "TRIM_HORIZON":
        position = 0
    elif kind == "LATEST":
        position = stream.next_seq
    elif kind == "AT_TIMESTAMP":
        since = data.get("Timestamp")
        if since is None:
            raise errors.ValidationException("Timestamp is required when ShardIteratorType is AT_TIMESTAMP")
        if since > time.time():
            raise errors.ValidationException(f"Timestamp {since} is in the future")
        # Older than the trim horizon: the oldest record, as TRIM_HORIZON does.
        first = await req.runtime.backend.first_stream_seq_since(stream.id, since)
        position = first if first is not None else stream.next_seq
    else:
        text = data.get("SequenceNumber")
        if text is None:
            raise errors.ValidationException(
                f"SequenceNumber is required when ShardIteratorType is {kind}")
        seq = streams.parse_seq(text)
        # next_seq is not taken yet: an empty shard's StartingSequenceNumber.
        if seq is None or seq > stream.next_seq:
            raise errors.ValidationException(f"Invalid SequenceNumber: {text}")
        low, _ = await req.runtime.backend.stream_seq_bounds(stream.id)
        if seq < (low if low is not None else stream.next_seq):
            raise _trimmed()
        position = seq if kind == "AT_SEQUENCE_NUMBER" else min(seq + 1, stream.next_seq)
    return {"ShardIterator": streams.encode_iterator(stream.arn, stream.id, position)}


def _trimmed() -> errors.TrimmedDataAccess:
    return errors.TrimmedDataAccess(
        "The operation attempted to read past the oldest stream record in a shard.")


def _expired(issued_at: float, now: float) -> errors.ExpiredIterator:
    lifetime_ms = int(streams.iterator_lifetime() * 1000)
    return errors.ExpiredIterator(
        f"Iterator expired. The iterator was created at time {formatdate(issued_at, usegmt=True)} "
        f"while right now it is {formatdate(now, usegmt=True)} which is further in the future "
        f"than the tolerated delay of {lifetime_ms} milliseconds.")


async def get_records(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    limit = _check_limit(data, MAX_RECORDS_LIMIT)
    iterator = streams.decode_iterator(data["ShardIterator"])
    now = time.time()
    if now - iterator.issued_at > streams.iterator_lifetime():
        raise _expired(iterator.issued_at, now)
    backend = req.runtime.backend
    # Read the stream row before the records: with no gaps in numbering, no rows
    # at a position below next_seq means those records were trimmed.
    stream = await backend.load_stream(stream_id=iterator.stream_id)
    if stream is None or not _live(stream, now):
        raise errors.ResourceNotFound("Requested resource not found: Stream not found")
    rows = await backend.read_stream_records(stream.id, iterator.position, limit)
    if iterator.position > 0 and (rows[0][0] > iterator.position if rows else iterator.position < stream.next_seq):
        raise _trimmed()
    records, size, position = [], 0, iterator.position
    for seq, _created_at, name, body, identity in rows:
        size += len(body)
        if records and size > MAX_RECORDS_BYTES:
            break
        records.append(streams.wire_record(stream.arn, seq, name, body, identity))
        position = seq + 1
    out: dict[str, Any] = {"Records": records}
    # A disabled stream gets no more records: once read to the end, the shard is closed.
    if not (stream.status == "DISABLED" and max(position, 1) >= stream.next_seq):
        out["NextShardIterator"] = streams.encode_iterator(stream.arn, stream.id, position, now)
    return out


STREAMS_HANDLERS = {
    "ListStreams": list_streams,
    "DescribeStream": describe_stream,
    "GetShardIterator": get_shard_iterator,
    "GetRecords": get_records,
}
