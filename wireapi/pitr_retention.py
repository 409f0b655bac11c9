"""Retention of point-in-time recovery history (a wireapi.background task): every
EXTENDDB_PITR_PURGE_SECONDS, compact each window to its recovery period, drop the
windows of deleted tables once their period has passed, and the SYSTEM backups
older than 35 days.

History a restore to any instant still in the window needs is kept: each key's last
version before the window start stays (it is the key's state at that start) unless
it is a deletion. A purge looks only at the keys written since the previous one.
The window start is computed with an hour of slack, so a restore or export that was
accepted just inside the window never finds its versions gone while it runs.
"""
from __future__ import annotations

import asyncio
import logging

from django.conf import settings

from . import pitr
from .operations.backups import SYSTEM_BACKUP_DAYS
from .runtime import Runtime, get_runtime

log = logging.getLogger("extenddb.pitr")

SLACK_SECONDS = 3600.0


async def purge_once(runtime: Runtime | None = None, now: float | None = None) -> int:
    """One pass over every window; returns how many versions went."""
    runtime = runtime or get_runtime()
    backend = runtime.backend
    now = now if now is not None else await backend.clock()
    purged = 0
    for source in await backend.list_pitr_sources():
        start = now - source.recovery_days * pitr.DAY_SECONDS - SLACK_SECONDS
        if source.deleted_at is not None and source.deleted_at < start:
            await backend.drop_pitr_source(source.id)  # nothing left to restore to
            continue
        if start > source.purged_to and start > source.enabled_at:
            purged += await backend.purge_history(source.id, start, source.purged_to)
    await backend.purge_system_backups(now - SYSTEM_BACKUP_DAYS * pitr.DAY_SECONDS)
    return purged


async def run_forever() -> None:
    """The background task (wireapi.background.BACKGROUND_TASKS)."""
    while True:
        try:
            count = await purge_once()
            if count:
                log.info("PITR retention purged %d item versions", count)
        except Exception:
            log.exception("PITR retention purge failed")
        await asyncio.sleep(settings.EXTENDDB_PITR_PURGE_SECONDS)
