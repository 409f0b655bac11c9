"""Consumed capacity units, by DynamoDB's published rules.

Reads: one unit per 4 KB (rounded up) strongly consistent, half that eventually
consistent, twice that transactional. Writes: one unit per 1 KB (rounded up),
twice that transactional. An absent item still costs the minimum.
"""
from __future__ import annotations

import math

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
