"""What every item write does besides writing the item, in its transaction:
keep secondary indexes in line and append stream records. Every write path
(single items, batches, transactions, TTL, PartiQL) goes through here."""
from __future__ import annotations

from typing import Any

from storage.backends import TableRecord, Transaction

from . import indexes


def needs_old_item(table: TableRecord) -> bool:
    """Whether a write to this table must read the old item first."""
    return bool(table.extra["indexes"])


async def apply_change(txn: Transaction, table: TableRecord, pk: bytes, sk: bytes,
                       old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    if old is None and new is None:
        return
    if table.extra["indexes"]:
        await indexes.maintain(txn, table.extra["indexes"], pk, sk, old, new)
