"""Point-in-time recovery: which tables keep item history, and the window they can
be restored to.

A table with PITR enabled has a *source* (storage.models.PitrSource) whose id its
description carries (`_pitr.SourceId`). Every write to the table appends the item's
new version, or a tombstone, to the source's history in the write's own transaction
(wireapi.changes.apply_change -> Transaction.record_history). The backend stamps the
versions of a transaction once, with the database's clock, as the transaction's last
statement, after every row lock is held. So:

- versions of one item are stamped in commit order, and a write acknowledged before
  another starts has the smaller stamp, whichever server ran either (one clock: the
  database's; on SQLite, the one host's);
- the table as of T is, for each key, its last version stamped at or before T: a
  transaction is either wholly in it or wholly out;
- a reader waits for the database clock to pass T and then for writers still holding
  a stamp (history_barrier) before it reads, so nothing stamped <= T is missed.

LatestRestorableDateTime is the database clock when asked: a restore to it holds
every write acknowledged before the question. EarliestRestorableDateTime is the later
of the enabling and now minus RecoveryPeriodInDays.

Tables without PITR pay nothing here but a dictionary lookup on the write path.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any

from storage.backends import StorageBackend, TableRecord

DAY_SECONDS = 86400.0
DEFAULT_RECOVERY_DAYS = 35
MIN_RECOVERY_DAYS, MAX_RECOVERY_DAYS = 1, 35
SYSTEM_BACKUP_SUFFIX = "$DeletedTableBackup"
_BARRIER_POLL_SECONDS = 0.01


def settings_of(description: dict[str, Any]) -> dict[str, Any]:
    """The stored PITR settings (`_pitr` in the table description)."""
    return description.get("_pitr") or {"PointInTimeRecoveryStatus": "DISABLED"}


def history_source(table: TableRecord) -> int | None:
    """The source id whose history this table's writes extend, or None (no PITR).
    Worked out once per cached table record."""
    try:
        return table.extra["pitr_source"]
    except KeyError:
        pitr = settings_of(table.description)
        source = pitr.get("SourceId") if pitr["PointInTimeRecoveryStatus"] == "ENABLED" else None
        table.extra["pitr_source"] = source
        return source


def window(enabled_at: float, recovery_days: int, now: float) -> tuple[float, float]:
    """(EarliestRestorableDateTime, LatestRestorableDateTime) of an enabled table."""
    return max(enabled_at, now - recovery_days * DAY_SECONDS), now


def system_backup(record: TableRecord, now: float) -> tuple[str, str] | None:
    """The SYSTEM backup DynamoDB takes when a table with PITR enabled is deleted:
    (ARN, name), or None for a table without PITR."""
    if history_source(record) is None:
        return None
    arn = f"{record.description['TableArn']}/backup/{round(now * 1000):014d}-{os.urandom(4).hex()}"
    return arn, record.name + SYSTEM_BACKUP_SUFFIX


async def settle(backend: StorageBackend, source_id: int, instant: float) -> None:
    """Wait until every write stamped at or before `instant` has committed: the database
    clock has passed it, and no writer still holds a stamp taken before that."""
    while await backend.clock() <= instant:
        await asyncio.sleep(_BARRIER_POLL_SECONDS)
    await backend.history_barrier(source_id)
