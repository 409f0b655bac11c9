"""Backfill of new global secondary indexes: every item that existed before the
index is indexed, then the index becomes ACTIVE.

UpdateTable only records the index (CREATING, in the same transaction as the
new description); this loop, an elected BACKGROUND_TASKS entry, runs once per
cluster and finds it. If its server dies, the next elected server starts the
index over (indexing an item twice writes the same entry).

Nothing is missed, whichever server writes meanwhile: the index row and the
description that names it commit together and bump the table's version, so
from that commit on every write, on every server, either maintains the index
or is refused as stale and redone (storage.backends.base.StaleSchema); writes
that committed before it are there for the scan, which starts after it. Each
item is re-read under its row lock before its entry is written, so a write
racing the scan lands either before (and is indexed here) or after (and
maintains the index itself).
"""
from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging

import orjson

from storage.backends import StaleSchema

from . import indexes
from .dispatch import STALE_RETRIES
from .indexes import IndexSpec
from .runtime import Runtime, get_runtime

log = logging.getLogger("extenddb.indexes")

POLL_SECONDS = 0.5
PAGE = 200


async def run_backfills() -> None:
    """The background task (wireapi.background.BACKGROUND_TASKS)."""
    runtime = get_runtime()
    while True:
        for table_name, index_id, index_name in await runtime.backend.creating_indexes():
            try:
                await backfill(runtime, table_name, index_id, index_name)
            except Exception:
                log.exception("backfill of index %s on %s failed; it is retried", index_name, table_name)
        await asyncio.sleep(POLL_SECONDS)


async def _spec(runtime: Runtime, table_name: str, index_id: int):  # type: ignore[no-untyped-def]
    record = await runtime.catalog.get(table_name)
    if record is None:
        return None, None
    return record, next((s for s in record.extra["indexes"] if s.id == index_id), None)


async def backfill(runtime: Runtime, table_name: str, index_id: int, index_name: str) -> None:
    backend = runtime.backend
    log.info("backfill of index %s on %s started", index_name, table_name)
    after: tuple[bytes, bytes] | None = None
    done = violations = 0
    while True:
        record, spec = await _spec(runtime, table_name, index_id)
        if record is None or spec is None:
            return  # table or index deleted meanwhile
        rows = await backend.scan(record.id, after, None, PAGE)
        if not rows:
            break
        try:
            violations += await _index_page(runtime, record.id, record.version, spec, rows)
        except StaleSchema:
            runtime.catalog.invalidate()
            continue  # the same page again, on the table as it is now
        after = (bytes(rows[-1][0]), bytes(rows[-1][1]))
        done += len(rows)
        await asyncio.sleep(0)  # let the other background tasks run between pages
    if violations:
        log.warning("backfill of index %s on %s left out %d item(s) violating its key schema "
                    "(manage.py checkconsistency counts them)", index_name, table_name, violations)
    await _activate(runtime, table_name, index_id, index_name)
    log.info("backfill of index %s on %s done: %d items read", index_name, table_name, done)


async def _index_page(runtime: Runtime, table_id: int, version: int, spec: IndexSpec, rows: list) -> int:
    """Index one page of items; returns how many were left out for violating the key schema."""
    violations = 0
    async with runtime.backend.transaction() as txn:
        for hash_key, range_key, _, _ in rows:
            raw = await txn.get_item(table_id, hash_key, range_key, version)
            if raw is None:
                continue
            item = orjson.loads(raw)
            # An item violating the new key schema stays out of the index (DynamoDB's rule).
            violations += indexes.key_violation(spec, item)
            await indexes.maintain(txn, [spec], hash_key, range_key, None, item)
    return violations


async def _activate(runtime: Runtime, table_name: str, index_id: int, index_name: str) -> None:
    """The description says ACTIVE first, then the index row: if this server dies in
    between, the row still says CREATING and the next runner backfills it again."""
    for _ in range(STALE_RETRIES):
        record = await runtime.catalog.get(table_name)
        if record is None:
            return
        desc = copy.deepcopy(record.description)
        for gsi in desc.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] == index_name:
                gsi["IndexStatus"] = "ACTIVE"
                gsi.pop("Backfilling", None)
        try:
            await runtime.backend.save_table(dataclasses.replace(record, description=desc))
            break
        except StaleSchema:
            runtime.catalog.invalidate()
    else:
        raise RuntimeError("the table kept changing")  # run_backfills tries again
    await runtime.backend.set_index_status(index_id, "ACTIVE")
    runtime.catalog.changed()
