"""What Query and Scan share: Select rules, ExclusiveStartKey checks, the
choice of table or index, and the page loop (Limit, the 1 MB page, filter,
projection, counts, LastEvaluatedKey, consumed capacity)."""
from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from storage.backends import TableRecord
from storage.keycodec import encode_composite, encode_key_value

from .. import capacity, errors, expressions, values
from ..indexes import IndexSpec
from ..keys import MAX_HASH_KEY_BYTES, MAX_RANGE_KEY_BYTES, KeySchema, key_from_key_param

PAGE_BYTES = 1024 * 1024  # DynamoDB stops a page once the data read reaches 1 MB
_INVALID = "One or more parameter values were invalid: "
START_KEY_INVALID = "The provided starting key is invalid"
# Value errors DynamoDB reports without the "starting key is invalid" prefix.
_UNPREFIXED = re.compile(r"contains duplicates|number set|numeric value|significant digits|number with magnitude")


# --- request checks ------------------------------------------------------------

def check_select(data: dict[str, Any], prefix: str) -> str | None:
    """Select against ProjectionExpression/AttributesToGet/IndexName. Query reports
    these as Coral shape errors ("1 validation error detected: "), Scan bare."""
    select = data.get("Select")
    if select is None:
        return None
    given = ("ProjectionExpression" if data.get("ProjectionExpression") is not None
             else "AttributesToGet" if data.get("AttributesToGet") is not None else None)
    if given and select != "SPECIFIC_ATTRIBUTES":
        what = "only the Count" if select == "COUNT" else select
        raise errors.ValidationException(f"{prefix}Cannot specify the {given} when choosing to get {what}")
    if select == "SPECIFIC_ATTRIBUTES" and not given:
        raise errors.ValidationException(
            f"{prefix}Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES")
    if select == "ALL_PROJECTED_ATTRIBUTES" and data.get("IndexName") is None:
        raise errors.ValidationException(
            f"{prefix}ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    return select


def check_start_key_values(start: dict[str, Any] | None) -> dict[str, Any] | None:
    if start is None:
        return None
    out = {}
    for name, av in start.items():
        try:
            out[name] = values.validate_value(av)
        except errors.ValidationException as exc:
            message = exc.message or ""
            raise errors.ValidationException(
                message if _UNPREFIXED.search(message) else f"{START_KEY_INVALID}: {message}") from None
    return out


def check_key_piece(key: dict[str, Any], name: str, key_type: str, is_hash: bool) -> None:
    """One key attribute of a start key, with the messages of a Key parameter."""
    av = key.get(name)
    if av is None or key_type not in av:
        raise errors.key_schema_mismatch()
    raw = av[key_type]
    if raw == "" and key_type in ("S", "B"):
        kind = "string" if key_type == "S" else "binary"
        raise errors.ValidationException(
            _INVALID + f"The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}")
    if key_type != "N":
        size = len(encode_key_value(av))
        if is_hash and size > MAX_HASH_KEY_BYTES:
            raise errors.ValidationException(
                _INVALID + "Size of hashkey has exceeded the maximum size limit of2048 bytes")
        if not is_hash and size > MAX_RANGE_KEY_BYTES:
            raise errors.ValidationException(
                _INVALID + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")


def encode_table_start(table: TableRecord, start: dict[str, Any]) -> tuple[bytes, bytes]:
    schema: KeySchema = table.extra["schema"]
    subset = {name: start[name] for name in schema.names if name in start}
    try:
        return key_from_key_param(schema, subset)
    except errors.ValidationException as exc:
        raise errors.ValidationException(f"{START_KEY_INVALID}: {exc.message}") from None


def encode_index_start(index: IndexSpec, start: dict[str, Any]) -> tuple[bytes, bytes]:
    """(index hash, index range) of a start key already checked piece by piece."""
    schema = index.schema
    if schema.composite:
        return (encode_composite([start[name] for name, _ in schema.hash_parts]),
                encode_composite([start[name] for name, _ in schema.range_parts]))
    range_bytes = encode_key_value(start[schema.range_name]) if schema.range_name else b""
    return encode_key_value(start[schema.hash_name]), range_bytes


def resolve_index(table: TableRecord, data: dict[str, Any]) -> IndexSpec | None:
    name = data.get("IndexName")
    if name is None:
        return None
    index = next((i for i in table.extra["indexes"] if i.name == name and i.status != "DELETING"), None)
    if index is None:
        raise errors.ValidationException(f"The table does not have the specified index: {name}")
    if index.kind == "GSI" and data.get("ConsistentRead"):
        raise errors.ValidationException("Consistent reads are not supported on global secondary indexes")
    if index.kind == "GSI" and index.status == "CREATING":
        raise errors.ValidationException(f"Cannot read from backfilling global secondary index: {name}")
    return index


def start_key_names(table: TableRecord, index: IndexSpec | None) -> tuple[str, ...]:
    names = list(table.extra["schema"].names)
    if index is not None:
        names += [n for n in index.schema.names if n not in names]
    return tuple(names)


def check_start_key_size(start: dict[str, Any] | None, names: tuple[str, ...], table_only: bool) -> None:
    if start is not None and len(start) != len(names):
        raise errors.ValidationException(
            f"{START_KEY_INVALID}: The provided key element does not match the schema" if table_only
            else START_KEY_INVALID)


def check_index_start_pieces(start: dict[str, Any] | None, schema: KeySchema, table_only: bool = False) -> None:
    if start is None:
        return
    for name, key_type, is_hash in schema.parts():
        if name not in start:
            raise errors.ValidationException(
                f"{START_KEY_INVALID}: The provided key element does not match the schema" if table_only
                else START_KEY_INVALID)
        try:
            check_key_piece(start, name, key_type, is_hash)
        except errors.ValidationException as exc:
            raise errors.ValidationException(f"{START_KEY_INVALID}: {exc.message}") from None


def check_nested_key_paths(table: TableRecord, nested: set[str]) -> None:
    """Document paths (a.b, a[0]) through a key attribute of the table or an index."""
    if not nested:
        return
    for name in table.extra["schema"].names:
        if name in nested:
            raise errors.ValidationException(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: "
                f"Key: {name}")
    for index in table.extra["indexes"]:
        for name in index.schema.names:
            if name in nested:
                raise errors.ValidationException(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
                    f"allowed: IndexKey: {name}")


def projection_nested(projection: Any) -> set[str]:
    if projection is None:
        return set()
    return {path[0] for path in projection.paths if len(path) > 1}


def filter_nested(condition: Any) -> set[str]:
    return set(getattr(condition, "nested_heads", ()) or ())


def projection_heads(projection: Any) -> list[str]:
    return list(dict.fromkeys(path[0] for path in projection.paths)) if projection is not None else []


def check_index_select(index: IndexSpec | None, select: str | None) -> None:
    if (index is not None and index.kind == "GSI" and index.projection_type != "ALL"
            and select == "ALL_ATTRIBUTES"):
        raise errors.ValidationException(
            _INVALID + f"Select type ALL_ATTRIBUTES is not supported for global secondary index {index.name} "
            "because its projection type is not ALL")


def needs_base_items(index: IndexSpec | None, select: str | None, projection: Any, condition: Any) -> bool:
    """Whether an index read must fetch the table's items: an LSI (or a GSI, where
    this is an error) asked for attributes it does not project."""
    if index is None or index.projection_type == "ALL":
        return False
    missing = [h for h in projection_heads(projection) if h not in index.projected]
    if index.kind == "GSI":
        if missing:
            raise errors.ValidationException(
                _INVALID + f"Global secondary index {index.name} does not project [{', '.join(missing)}]")
        return False
    filter_heads = getattr(condition, "path_heads", ()) or ()
    return bool(select == "ALL_ATTRIBUTES" or missing or any(h not in index.projected for h in filter_heads))


# --- the page loop ---------------------------------------------------------------

@dataclass(slots=True)
class Row:
    """One evaluated item: its body (the table's item when fetched from it) and sizes."""
    body: bytes
    size: int  # bytes of `body`'s item
    index_size: int = 0  # bytes of the index entry read (index reads)
    from_table: bool = True  # whether `size` was read from the table
    _item: dict[str, Any] | None = None

    @property
    def item(self) -> dict[str, Any]:
        if self._item is None:
            self._item = orjson.loads(self.body)
        return self._item


@dataclass
class Batch:
    rows: list[Row]
    exhausted: bool  # nothing after these rows
    cursor: Any = None  # where the next fetch continues


# fetch(cursor, n): up to n rows after `cursor` (None: from the start).
Fetch = Callable[[Any, int], Awaitable[Batch]]


@dataclass
class ReadPlan:
    table: TableRecord
    index: IndexSpec | None
    select: str | None
    projection: Any
    condition: Any
    limit: int | None
    consistent: bool
    names: tuple[str, ...]  # LastEvaluatedKey attributes
    mode: str | None = None  # capacity.requested: TOTAL, INDEXES or None
    scanned: list[Row] = field(default_factory=list)


def _batch_size(plan: ReadPlan, count: int, size: int) -> int:
    remaining = plan.limit - count if plan.limit else 1 << 30
    if count == 0:
        return min(remaining, 100)
    average = max(1, size // count)
    return max(1, min(remaining, 1000, (PAGE_BYTES - size) // average + 1))


async def collect(plan: ReadPlan, fetch: Fetch, cursor: Any) -> tuple[list[Row], bool]:
    """Rows evaluated for one page, and whether the page stopped at Limit or 1 MB."""
    rows: list[Row] = []
    size = 0
    while True:
        batch = await fetch(cursor, _batch_size(plan, len(rows), size))
        for row in batch.rows:
            rows.append(row)
            size += row.size if row.from_table else row.index_size
            if (plan.limit and len(rows) >= plan.limit) or size >= PAGE_BYTES:
                return rows, True
        if batch.exhausted:
            return rows, False
        cursor = batch.cursor


def _units(size: int, consistent: bool) -> float:
    return math.ceil(size / capacity.READ_UNIT_BYTES) * (1.0 if consistent else 0.5)


def consumed(plan: ReadPlan, rows: list[Row]) -> dict[str, Any] | None:
    if plan.mode is None:
        return None
    table_bytes = sum(r.size for r in rows if r.from_table)
    if plan.index is None:
        table_units = capacity.read_units(table_bytes, plan.consistent)
        index_units = 0.0
    else:
        index_units = capacity.read_units(sum(r.index_size for r in rows), plan.consistent)
        table_units = _units(table_bytes, plan.consistent)
    out: dict[str, Any] = {"TableName": plan.table.name, "CapacityUnits": table_units + index_units}
    if plan.mode == "INDEXES":
        out["Table"] = {"CapacityUnits": table_units}
        if plan.index is not None:
            kind = "GlobalSecondaryIndexes" if plan.index.kind == "GSI" else "LocalSecondaryIndexes"
            out[kind] = {plan.index.name: {"CapacityUnits": index_units}}
    return out


def respond(plan: ReadPlan, rows: list[Row], stopped: bool) -> dict[str, Any] | bytes:
    last_key = None
    if stopped and rows:
        last = rows[-1].item
        last_key = {name: last[name] for name in plan.names if name in last}
    cc = consumed(plan, rows)
    if plan.condition is None and plan.projection is None and plan.select != "COUNT":
        # Stored bodies are already wire JSON: splice them without a parse/encode.
        out = b'{"Items":[' + b",".join(bytes(r.body) for r in rows) + b"],"
        out += b'"Count":%d,"ScannedCount":%d' % (len(rows), len(rows))
        if last_key is not None:
            out += b',"LastEvaluatedKey":' + orjson.dumps(last_key)
        if cc is not None:
            out += b',"ConsumedCapacity":' + orjson.dumps(cc)
        return out + b"}"
    items = [r.item for r in rows]
    if plan.condition is not None:
        items = [item for item in items if expressions.evaluate_condition(plan.condition, item)]
    result: dict[str, Any] = {"Count": len(items), "ScannedCount": len(rows)}
    if plan.select != "COUNT":
        if plan.projection is not None:
            items = [expressions.project(item, plan.projection) for item in items]
        result["Items"] = items
    if last_key is not None:
        result["LastEvaluatedKey"] = last_key
    if cc is not None:
        result["ConsumedCapacity"] = cc
    return result


async def with_base_items(backend: Any, table: TableRecord, keyed: list[tuple[bytes, bytes, Row]]) -> list[Row]:
    """Replace index entries by their table items (LSI reads of unprojected attributes)."""
    if not keyed:
        return []
    found = await backend.get_items(table.id, [(pk, sk) for pk, sk, _ in keyed])
    out = []
    for pk, sk, entry in keyed:
        body = found.get((bytes(pk), bytes(sk)))
        if body is None:
            continue  # deleted between the two reads
        item = orjson.loads(body)
        out.append(Row(body, values.item_size(item), entry.index_size, True, item))
    return out
