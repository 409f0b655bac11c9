"""Consumed capacity units, by DynamoDB's published rules.

Reads: one unit per 4 KB (rounded up) strongly consistent, half that eventually
consistent, twice that transactional. Writes: one unit per 1 KB (rounded up),
twice that transactional. An absent item still costs the minimum.
"""
from __future__ import annotations

import math
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units) if consistent else units / 2


def write_units(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return float(units * 2 if transactional else units)


def requested(data: dict[str, Any]) -> str | None:
    """The request's ReturnConsumedCapacity when it asks for a report (TOTAL or INDEXES)."""
    mode = data.get("ReturnConsumedCapacity")
    return mode if mode in ("TOTAL", "INDEXES") else None


def with_indexes(entry: dict[str, Any], mode: str, index_units: list[tuple[Any, float]],
                 kind: str | None = None) -> dict[str, Any]:
    """Add the indexes' units to a ConsumedCapacity entry: to its total, and with
    INDEXES as GlobalSecondaryIndexes / LocalSecondaryIndexes (specs: wireapi.indexes.IndexSpec)."""
    if not index_units:
        return entry
    extra = sum(units for _, units in index_units)
    entry["CapacityUnits"] += extra
    if kind:
        entry[kind] += extra
    if mode == "INDEXES":
        for spec, units in index_units:
            group = "GlobalSecondaryIndexes" if spec.kind == "GSI" else "LocalSecondaryIndexes"
            entry.setdefault(group, {}).setdefault(spec.name, {"CapacityUnits": 0.0, **({kind: 0.0} if kind else {})})
            entry[group][spec.name]["CapacityUnits"] += units
            if kind:
                entry[group][spec.name][kind] += units
    return entry


def per_table(data: dict[str, Any], units: dict[str, float], kind: str | None = None,
              index_units: dict[str, list[tuple[Any, float]]] | None = None) -> list[dict[str, Any]] | None:
    """ConsumedCapacity entries of a multi-table call, or None when not asked for; `kind`
    ("ReadCapacityUnits"/"WriteCapacityUnits") is added for transactional calls;
    `index_units`: per table, what its indexes spent (with_indexes)."""
    mode = requested(data)
    if mode is None:
        return None
    out = []
    for name, total in units.items():
        entry: dict[str, Any] = {"TableName": name, "CapacityUnits": total}
        if kind:
            entry[kind] = total
        if mode == "INDEXES":
            entry["Table"] = {"CapacityUnits": total, **({kind: total} if kind else {})}
        out.append(with_indexes(entry, mode, (index_units or {}).get(name, []), kind))
    return out
