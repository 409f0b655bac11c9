"""ReturnItemCollectionMetrics: the size of the item collection a write touched
(its partition key's items and their LSI entries), for tables with local
secondary indexes; DynamoDB returns nothing for tables without."""
from __future__ import annotations

import math
from typing import Any

from storage.backends import TableRecord

from .keys import KeySchema

_GB = 1024 ** 3


def wanted(data: dict[str, Any], table: TableRecord) -> bool:
    return data.get("ReturnItemCollectionMetrics") == "SIZE" and any(
        spec.kind == "LSI" for spec in table.extra["indexes"])


def _size_range(size: int) -> list[float]:
    """DynamoDB's SizeEstimateRangeGB: whole gigabytes either side of the size
    ([0.0, 1.0] for a collection under a gigabyte)."""
    low = float(math.floor(size / _GB))
    return [low, low + 1.0]


async def metrics(backend: Any, table: TableRecord, pk: bytes, key: dict[str, Any]) -> dict[str, Any]:
    schema: KeySchema = table.extra["schema"]
    lsi_ids = [spec.id for spec in table.extra["indexes"] if spec.kind == "LSI"]
    size = await backend.collection_size(table.id, pk, lsi_ids)
    return {"ItemCollectionKey": {schema.hash_name: key[schema.hash_name]},
            "SizeEstimateRangeGB": _size_range(size)}


async def per_table(backend: Any, data: dict[str, Any], writes: list[Any]) -> dict[str, list[dict[str, Any]]] | None:
    """BatchWriteItem's and TransactWriteItems' map: table name -> one entry per
    item collection written (once each), for the tables with LSIs."""
    if data.get("ReturnItemCollectionMetrics") != "SIZE":
        return None
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[int, bytes]] = set()
    for write in writes:
        if not wanted(data, write.table) or (write.table.id, write.pk) in seen:
            continue
        seen.add((write.table.id, write.pk))
        out.setdefault(write.table.name, []).append(await metrics(backend, write.table, write.pk, write.key))
    return out
