"""What every item write does besides writing the item, in its transaction:
keep secondary indexes in line, append stream records and, for tables with
point-in-time recovery, the item's new version to its history (wireapi.pitr).
Every write path (single items, batches, transactions, TTL, PartiQL, imports,
bulk loads) goes through here."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import orjson

from storage.backends import TableRecord, Transaction

from . import indexes, pitr, streams, values

# Who made the writes of the current task when it is not a client: the TTL
# sweeper sets it so its deletions carry DynamoDB's service identity.
_service_identity: ContextVar[bytes | None] = ContextVar("service_identity", default=None)


@contextmanager
def as_service(identity: bytes) -> Iterator[None]:
    """Writes inside this block are recorded in streams with `identity` (JSON)."""
    token = _service_identity.set(identity)
    try:
        yield
    finally:
        _service_identity.reset(token)


def blind_put_needs_old_item(table: TableRecord) -> bool:
    """Whether an unconditional PutItem must read the old item: for its index entries or
    stream record. Point-in-time history records only the new version, which a blind
    put has (it goes through put_item_with_history)."""
    return bool(table.extra["indexes"]) or streams.stream_of(table) is not None


def needs_old_item(table: TableRecord) -> bool:
    """Whether a write to this table must read the old item first (and so run in a
    transaction, where apply_change keeps indexes, streams and history with it)."""
    return (bool(table.extra["indexes"]) or streams.stream_of(table) is not None
            or pitr.history_source(table) is not None)


async def apply_change(txn: Transaction, table: TableRecord, pk: bytes, sk: bytes,
                       old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    if old is None and new is None:
        return
    source = pitr.history_source(table)
    if source is not None:
        if new is None:
            txn.record_history(source, pk, sk, None, 0)
        else:
            txn.record_history(source, pk, sk, orjson.dumps(new), values.item_size(new))
    if table.extra["indexes"]:
        await indexes.maintain(txn, table.extra["indexes"], pk, sk, old, new)
    stream = streams.stream_of(table)
    if stream is None or (old is not None and new is not None and streams.same_item(old, new)):
        return
    arn, view_type = stream
    now = time.time()
    body = streams.record_body(table.extra["schema"].names, view_type, old, new, now)
    await txn.append_stream_record(arn, table.id, now, streams.event_name(old, new), body,
                                   _service_identity.get())
