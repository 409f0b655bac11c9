"""Query, on a table or a secondary index (Scan lives in scan.py; both are
registered here)."""
from __future__ import annotations

from typing import Any

from storage.backends import KeyRange
from storage.keycodec import encode_composite, encode_key_part, encode_key_value, escape_part, prefix_end

from .. import capacity, errors, expressions
from ..dispatch import Request
from ..expressions import KeyQuery, legacy
from . import read_common as rc
from .scan import scan
from ..keys import KeySchema
from .tables import get_table

_SHAPE = "1 validation error detected: "  # Query's Select errors come from the shape check


def key_range(kq: KeyQuery, schema: KeySchema | None = None) -> KeyRange:
    """The sort-key test as bounds on the encoded sort key. On a multi-attribute
    key the equalities on the leading RANGE attributes are a byte prefix of
    the encoding, and the test on the last one named a range under it."""
    if schema is None or not schema.composite:
        return _single_range(kq.range_operator, kq.range_values)
    prefix = encode_composite([value for _, value in kq.range_prefix])
    return _part_range(prefix, kq.range_operator, kq.range_values)


def _single_range(op: str | None, operands: tuple[dict, ...]) -> KeyRange:
    if op is None:
        return KeyRange()
    first = encode_key_value(operands[0])
    if op == "EQ":
        return KeyRange(first, True, first, True)
    if op == "LT":
        return KeyRange(high=first, high_inclusive=False)
    if op == "LE":
        return KeyRange(high=first)
    if op == "GT":
        return KeyRange(low=first, low_inclusive=False)
    if op == "GE":
        return KeyRange(low=first)
    if op == "BETWEEN":
        return KeyRange(first, True, encode_key_value(operands[1]), True)
    # BEGINS_WITH: S is UTF-8 and B raw bytes, so a prefix is a byte range.
    return KeyRange(low=first, high=prefix_end(first), high_inclusive=False)


def _part_range(prefix: bytes, op: str | None, operands: tuple[dict, ...]) -> KeyRange:
    """Entries starting with `prefix` whose next attribute passes `op`."""
    everything = KeyRange(low=prefix or None, high=prefix_end(prefix) if prefix else None, high_inclusive=False)
    if op is None:
        return everything
    if op == "BEGINS_WITH":
        start = prefix + escape_part(encode_key_value(operands[0]))
        return KeyRange(low=start, high=prefix_end(start), high_inclusive=False)
    at = prefix + encode_key_part(operands[0])  # every entry whose attribute equals the operand starts so
    after = prefix_end(at)
    if op == "EQ":
        return KeyRange(low=at, high=after, high_inclusive=False)
    if op == "LT":
        return KeyRange(low=everything.low, high=at, high_inclusive=False)
    if op == "LE":
        return KeyRange(low=everything.low, high=after, high_inclusive=False)
    if op == "GT":
        return KeyRange(low=after, high=everything.high, high_inclusive=False)
    if op == "GE":
        return KeyRange(low=at, high=everything.high, high_inclusive=False)
    high = prefix_end(prefix + encode_key_part(operands[1]))  # BETWEEN
    return KeyRange(low=at, high=high, high_inclusive=False)


def _check_start_bounds(start: dict[str, Any], kq: KeyQuery) -> None:
    same_hash = kq.same_partition(start)
    if kq.range_operator is None and not kq.range_prefix:
        if not same_hash:
            raise errors.ValidationException(
                "The provided starting key is outside query boundaries based on provided conditions")
        return
    if not kq.matches_start(start):
        raise errors.ValidationException("The provided starting key does not match the range key predicate")
    if not same_hash:
        raise errors.ValidationException("The query can return at most one row and cannot be restarted")


def _check_filter_keys(condition: Any, schema: KeySchema, legacy_filter: bool) -> None:
    heads = getattr(condition, "path_heads", ()) if condition is not None else ()
    label = "QueryFilter" if legacy_filter else "Filter Expression"
    for name in schema.names:
        if name in heads:
            raise errors.ValidationException(
                f"{label} can only contain non-primary key attributes: Primary key attribute: {name}")


async def query(req: Request, data: dict[str, Any]) -> dict[str, Any] | bytes:
    # --- request validation, in DynamoDB's order ---
    select = rc.check_select(data, _SHAPE)
    expressions.validate_expression_params(
        data, ("ProjectionExpression", "FilterExpression", "KeyConditionExpression"),
        ("AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"))
    legacy.check_conditional_operator(data, "QueryFilter")
    condition = (legacy.condition_from_filter(data["QueryFilter"], data.get("ConditionalOperator"))
                 if data.get("QueryFilter") else None)
    projection = (legacy.projection_from_attributes_to_get(data["AttributesToGet"])
                  if data.get("AttributesToGet") else None)
    start = rc.check_start_key_values(data.get("ExclusiveStartKey"))
    if data.get("KeyConditions") is None and data.get("KeyConditionExpression") is None:
        raise errors.ValidationException(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    exprs = expressions.compile_expressions(data)
    key_condition = exprs.key_condition
    if key_condition is None:
        key_condition = expressions.key_condition_from_key_conditions(data["KeyConditions"])
    condition = exprs.filter or condition
    projection = exprs.projection or projection

    # --- against the table ---
    table = await get_table(req, data["TableName"])
    index = rc.resolve_index(table, data)
    schema = index.schema if index is not None else table.extra["schema"]
    names = rc.start_key_names(table, index)
    rc.check_start_key_size(start, names, table_only=index is None)
    rc.check_index_start_pieces(start, schema, table_only=index is None)
    kq = key_condition.for_key_schema(schema)
    table_start = None
    if start is not None:
        table_start = rc.encode_table_start(table, start)
        _check_start_bounds(start, kq)
    rc.check_nested_key_paths(table, rc.projection_nested(projection))
    _check_filter_keys(condition, schema, legacy_filter=exprs.filter is None and condition is not None)
    rc.check_index_select(index, select)
    rc.check_nested_key_paths(table, rc.filter_nested(condition))
    fetch_base = rc.needs_base_items(index, select, projection, condition)

    plan = rc.ReadPlan(table, index, select, projection, condition, data.get("Limit"),
                       bool(data.get("ConsistentRead")), names, capacity.requested(data))
    forward = data.get("ScanIndexForward", True) is not False
    backend = req.reader(plan.consistent)
    rng = key_range(kq, schema)
    hash_bytes = encode_composite(kq.hash_values) if schema.composite else encode_key_value(kq.hash_value)

    if index is None:
        async def fetch(after: bytes | None, n: int) -> rc.Batch:
            rows = await backend.query(table.id, hash_bytes, rng, forward, after, n)
            out = [rc.Row(body, size) for _, body, size in rows]
            return rc.Batch(out, len(rows) < n, bytes(rows[-1][0]) if rows else after)

        cursor: Any = table_start[1] if table_start is not None else None
    else:
        async def fetch(after: tuple[bytes, bytes, bytes] | None, n: int) -> rc.Batch:
            rows = await backend.query_index(index.id, hash_bytes, rng, forward, after, n)
            out = [rc.Row(body, size, size, False) for _, _, _, body, size in rows]
            if fetch_base:
                out = await rc.with_base_items(
                    backend, table, [(r[1], r[2], row) for r, row in zip(rows, out)])
            last = rows[-1] if rows else None
            next_cursor = (bytes(last[0]), bytes(last[1]), bytes(last[2])) if last else after
            return rc.Batch(out, len(rows) < n, next_cursor)

        cursor = None
        if start is not None and table_start is not None:
            cursor = (rc.encode_index_start(index, start)[1], *table_start)

    rows, stopped = await rc.collect(plan, fetch, cursor)
    return rc.respond(plan, rows, stopped)


HANDLERS = {
    "Query": query,
    "Scan": scan,
}
