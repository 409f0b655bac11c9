"""Scan, of a table or a secondary index, whole or one segment of a parallel scan."""
from __future__ import annotations

from typing import Any

from storage.backends.sql import SEGMENT_SPACE, segment_hash

from .. import capacity, errors, expressions
from ..dispatch import Request
from ..expressions import legacy
from . import read_common as rc
from .tables import get_table


def segment_bounds(segment: int, total: int) -> tuple[int, int]:
    """Segment i of T covers segment hashes [i*65536//T, (i+1)*65536//T)."""
    return segment * SEGMENT_SPACE // total, (segment + 1) * SEGMENT_SPACE // total


def _check_segments(data: dict[str, Any]) -> tuple[int, int] | None:
    segment, total = data.get("Segment"), data.get("TotalSegments")
    if segment is not None and total is None:  # Segment 0 too (not a falsy check)
        raise errors.ValidationException(
            "The TotalSegments parameter is required but was not present in the request when Segment "
            "parameter is present")
    if total is not None:
        if segment is None:
            raise errors.ValidationException(
                "The Segment parameter is required but was not present in the request when parameter "
                "TotalSegments is present")
        if segment >= total:
            raise errors.ValidationException(
                "The Segment parameter is zero-based and must be less than parameter TotalSegments: "
                f"Segment: {segment} is not less than TotalSegments: {total}")
        if total > 1:
            return segment_bounds(segment, total)
    return None


async def scan(req: Request, data: dict[str, Any]) -> dict[str, Any] | bytes:
    # --- request validation, in DynamoDB's order ---
    select = rc.check_select(data, "")
    expressions.validate_expression_params(
        data, ("ProjectionExpression", "FilterExpression"), ("AttributesToGet", "ScanFilter", "ConditionalOperator"))
    projection = (legacy.projection_from_attributes_to_get(data["AttributesToGet"])
                  if data.get("AttributesToGet") else None)
    legacy.check_conditional_operator(data, "ScanFilter")
    condition = (legacy.condition_from_filter(data["ScanFilter"], data.get("ConditionalOperator"))
                 if data.get("ScanFilter") else None)
    start = rc.check_start_key_values(data.get("ExclusiveStartKey"))
    bounds = _check_segments(data)
    exprs = expressions.compile_expressions(data)
    condition = exprs.filter or condition
    projection = exprs.projection or projection

    # --- against the table ---
    table = await get_table(req, data["TableName"])
    index = rc.resolve_index(table, data)
    names = rc.start_key_names(table, index)
    rc.check_start_key_size(start, names, table_only=index is None)
    if index is not None:
        rc.check_index_start_pieces(start, index.schema)
    rc.check_index_select(index, select)
    cursor: Any = None
    if start is not None:
        pk, sk = rc.encode_table_start(table, start)
        cursor = (pk, sk)
        seg_key = pk
        if index is not None:
            index_hash, index_range = rc.encode_index_start(index, start)
            cursor = (index_hash, index_range, pk, sk)
            seg_key = index_hash
        if bounds is not None and not bounds[0] <= segment_hash(seg_key) < bounds[1]:
            raise errors.ValidationException(
                "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey "
                f"with correct Segment. TotalSegments: {data['TotalSegments']} Segment: {data['Segment']}")
    rc.check_nested_key_paths(table, rc.projection_nested(projection))
    rc.check_nested_key_paths(table, rc.filter_nested(condition))
    fetch_base = rc.needs_base_items(index, select, projection, condition)

    plan = rc.ReadPlan(table, index, select, projection, condition, data.get("Limit"),
                       bool(data.get("ConsistentRead")), names, capacity.requested(data))
    backend = req.reader(plan.consistent)

    if index is None:
        async def fetch(after: tuple[bytes, bytes] | None, n: int) -> rc.Batch:
            rows = await backend.scan(table.id, after, bounds, n)
            out = [rc.Row(body, size) for _, _, body, size in rows]
            last = (bytes(rows[-1][0]), bytes(rows[-1][1])) if rows else after
            return rc.Batch(out, len(rows) < n, last)
    else:
        async def fetch(after: tuple[bytes, bytes, bytes, bytes] | None, n: int) -> rc.Batch:
            rows = await backend.scan_index(index.id, after, n)
            # The index store has no segment column: entries of other segments are skipped here.
            kept = [r for r in rows if bounds is None or bounds[0] <= segment_hash(bytes(r[0])) < bounds[1]]
            out = [rc.Row(r[4], r[5], r[5], False) for r in kept]
            if fetch_base:
                out = await rc.with_base_items(backend, table, [(r[2], r[3], row) for r, row in zip(kept, out)])
            last = tuple(bytes(x) for x in rows[-1][:4]) if rows else after
            return rc.Batch(out, len(rows) < n, last)

    rows, stopped = await rc.collect(plan, fetch, cursor)
    return rc.respond(plan, rows, stopped)
