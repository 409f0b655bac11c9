"""Time to Live: delete expired items, and trim stream records past retention.

Runs in the background process of `manage.py serve` (BACKGROUND_TASKS) every
EXTENDDB_TTL_SWEEP_SECONDS, or once with `manage.py sweepttl`.

Cost: expired items are found by reading the table in key order, a page at a
time. One sweep reads at most EXTENDDB_TTL_SCAN_ITEMS items of each table
with TTL enabled and resumes where it stopped on the next sweep, so a big
table is covered over several sweeps (items × interval / budget seconds) and
no sweep holds the database for long. Bodies are only parsed when they
contain the attribute's name. Deletions go through the normal write path
(write_many: index entries, stream records with DynamoDB's service identity)
100 items a transaction, each re-checked under its row lock, with a pause
between transactions so foreground writers get the database.
"""
from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.conf import settings

from extenddb_site import joblog
from storage.backends import StaleSchema, TableRecord

from . import changes, errors, streams
from .dispatch import Request
from .operations.items import Decide, PreparedWrite, write_many
from .operations.ttl import ttl_attribute
from .runtime import Runtime, get_runtime

log = logging.getLogger("extenddb.ttl")

DELETE_BATCH = 100
SCAN_PAGE = 500
BATCH_PAUSE_SECONDS = 0.05

IGNORED_AFTER_SECONDS = 5 * 365 * 86400  # "more than five years in the past" (DynamoDB's TTL documentation)

# Where the next sweep of each table resumes (table id -> last key read).
_cursors: dict[int, tuple[bytes, bytes]] = {}


def expiry(item: dict[str, Any], attribute: str) -> Decimal | None:
    """The item's expiry in epoch seconds; None unless the attribute is a Number."""
    value = item.get(attribute)
    if not isinstance(value, dict) or "N" not in value:
        return None  # absent, a string, a set…: never expires
    try:
        return Decimal(value["N"])
    except (InvalidOperation, TypeError):
        return None


def is_expired(item: dict[str, Any] | None, attribute: str, now: float) -> bool:
    """Expired, and not more than five years ago: DynamoDB ignores older expiry
    times (often a value in another unit, or a mistake) and keeps the item."""
    if item is None:
        return False
    when = expiry(item, attribute)
    return when is not None and now - IGNORED_AFTER_SECONDS <= when < Decimal(repr(now))


async def _ttl_tables(runtime: Runtime) -> list[tuple[TableRecord, str]]:
    found, after = [], None
    while True:
        names = await runtime.backend.list_table_names(after, 100)
        for name in names:
            table = await runtime.catalog.get(name)
            if table is not None and table.status != "DELETING":
                attribute = ttl_attribute(table.description)
                if attribute is not None:
                    found.append((table, attribute))
        if len(names) < 100:
            return found
        after = names[-1]


def _delete_if_expired(attribute: str) -> Decide:
    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        # Re-checked with the row locked: an item renewed meanwhile stays.
        if is_expired(old, attribute, time.time()):
            return None, None
        return old, None

    return decide


async def _delete(req: Request, writes: list[PreparedWrite]) -> int:
    try:
        with changes.as_service(streams.TTL_IDENTITY):
            outcomes = await write_many(req, writes)
    except errors.DynamoDBError as exc:  # e.g. contention: the next sweep tries again
        log.warning("TTL deletion of %d items failed: %s", len(writes), exc)
        return 0
    except StaleSchema:  # the table changed meanwhile: the next sweep reads it again
        req.runtime.catalog.invalidate()
        return 0
    return sum(1 for o in outcomes if o.old is not None and o.new is None)


async def sweep_table(runtime: Runtime, table: TableRecord, attribute: str, budget: int | None,
                      pause: float = BATCH_PAUSE_SECONDS) -> int:
    req = Request(runtime, None, "ttl-sweeper")  # type: ignore[arg-type] - no client
    names = table.extra["schema"].names
    marker = orjson.dumps(attribute)  # a body that lacks the name cannot expire
    after = _cursors.pop(table.id, None) if budget is not None else None
    read = deleted = 0
    pending: list[PreparedWrite] = []
    decide = _delete_if_expired(attribute)
    while True:
        rows = await runtime.backend.scan(table.id, after, None, SCAN_PAGE)
        now = time.time()
        for pk, sk, body, _size in rows:
            body = bytes(body)
            if marker in body:
                item = orjson.loads(body)
                if is_expired(item, attribute, now):
                    key = {name: item[name] for name in names}
                    pending.append(PreparedWrite(table, bytes(pk), bytes(sk), key, decide))
            if len(pending) >= DELETE_BATCH:
                deleted += await _delete(req, pending)
                pending = []
                await asyncio.sleep(pause)
        read += len(rows)
        if len(rows) < SCAN_PAGE:
            break  # the whole table has been read: the next sweep starts over
        after = (bytes(rows[-1][0]), bytes(rows[-1][1]))
        if budget is not None and read >= budget:
            _cursors[table.id] = after
            break
        await asyncio.sleep(0)
    if pending:
        deleted += await _delete(req, pending)
    return deleted


async def sweep_once(runtime: Runtime | None = None, budget: int | None = None) -> int:
    """One pass over every table with TTL enabled; returns how many items were deleted.
    `budget` caps the items read per table (None: read them all)."""
    runtime = runtime or get_runtime()
    await runtime.backend.purge_streams(time.time() - streams.RETENTION_SECONDS)
    deleted = 0
    for table, attribute in await _ttl_tables(runtime):
        deleted += await sweep_table(runtime, table, attribute, budget)
    return deleted


async def run_forever() -> None:
    """The background task (wireapi.background.BACKGROUND_TASKS)."""
    interval = settings.EXTENDDB_TTL_SWEEP_SECONDS
    while True:
        started = time.monotonic()
        try:
            async with joblog.job("ttl-sweep", quiet=True) as report:  # logged when it deleted something
                report.result(deleted=await sweep_once(budget=settings.EXTENDDB_TTL_SCAN_ITEMS))
        except Exception:
            log.exception("TTL sweep failed")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
