"""The background half of RestoreTableToPointInTime (a RESTORE job of the transfer
runner): build the CREATING table from its source's history as of the restore
instant, page by page, then turn it ACTIVE.

Each page (items and their index entries) is one transaction of upserts, so no
request waits behind a big restore, and a runner that takes over a job whose
process died simply starts again: the pages already written are written the same.
"""
from __future__ import annotations

import dataclasses
from contextlib import aclosing
from typing import Any

import orjson

from storage.backends.base import JobRecord, StaleSchema, TableRecord

from .. import indexes, pitr
from ..dispatch import STALE_RETRIES
from ..runtime import Runtime

PAGE = 500


class _Entries:
    """Collects the index entries indexes.maintain would write (a Transaction stand-in)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, bytes, bytes, bytes, bytes, bytes, int]] = []

    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        self.rows.append((index_id, index_hash, index_range, pk, sk, body, size))

    async def delete_index_entry(self, *args: Any) -> None:  # never: every item is new
        raise AssertionError("a restore only adds entries")


async def build_table(runtime: Runtime, table: TableRecord, source_id: int, instant: float,
                      progress: Any = None) -> int:
    """Write the source's items as of `instant` into `table`; returns how many."""
    backend = runtime.backend
    await pitr.settle(backend, source_id, instant)
    specs = [s for s in table.extra["indexes"] if s.writable]
    count = 0
    pages = backend.history_pages(source_id, instant, PAGE)
    async with aclosing(pages):
        async for rows in pages:
            items = [(pk, sk, body, size) for pk, sk, body, size in rows if body is not None]
            entries = _Entries()
            if specs:
                for pk, sk, body, _ in items:
                    await indexes.maintain(entries, specs, pk, sk, None, orjson.loads(body))  # type: ignore[arg-type]
            await backend.write_restored(table.id, table.version, items, entries.rows)
            count += len(items)
            if progress is not None:
                await progress(count)
    return count


async def run_restore(runtime: Runtime, job: JobRecord, finish: Any, heartbeat: Any) -> None:
    desc = job.description
    table = await runtime.catalog.get(desc["TableName"])
    if table is None or table.description.get("TableId") != desc["TableId"]:
        await finish(runtime, job, ("TableNotFoundException", "The table was deleted during the restore"))
        return

    async def progress(count: int) -> None:
        await heartbeat.beat(ItemCount=count)

    count = await build_table(runtime, table, desc["SourceId"], desc["RestoreDateTime"], progress)
    for _ in range(STALE_RETRIES):  # ACTIVE, on the definition as it is now
        table = await runtime.catalog.get(desc["TableName"])
        if table is None:
            break
        summary = {**table.description["RestoreSummary"], "RestoreInProgress": False}
        try:
            await runtime.backend.save_table(dataclasses.replace(
                table, status="ACTIVE", description={**table.description, "RestoreSummary": summary}))
        except StaleSchema:
            runtime.catalog.invalidate()
            continue
        break
    runtime.catalog.changed()
    await finish(runtime, job, None, ItemCount=count)
