"""SELECT: a Query when the where clause fixes the partition key (= or IN),
otherwise a Scan, of the table or the index named in FROM.

The whole where clause is the filter: the key range only narrows what is read,
so results never depend on how the key condition was recognised.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from storage.backends import KeyRange, TableRecord
from storage.keycodec import encode_key_value
from wireapi import capacity, errors, expressions
from wireapi.dispatch import Request
from wireapi.indexes import IndexSpec, index_key
from wireapi.keys import KeySchema, key_from_item, key_from_key_param
from wireapi.operations import read_common as rc
from wireapi.operations.tables import get_table

from . import ast
from .translate import Binder, bare, conjuncts, is_constant, split_key



@dataclass
class SelectPlan:
    read: rc.ReadPlan
    schema: KeySchema
    partitions: list[bytes] | None  # encoded partition keys to query; None: scan
    rng: KeyRange
    forward: bool
    digest: str  # ties a NextToken to its statement and parameters


def _digest(statement: str, params: list[dict[str, Any]]) -> str:
    return hashlib.sha256(orjson.dumps([statement, params])).hexdigest()[:16]


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string above every string starting with `prefix`."""
    trimmed = prefix.rstrip(b"\xff")
    return trimmed[:-1] + bytes([trimmed[-1] + 1]) if trimmed else None


def _typed(av: dict[str, Any], key_type: str | None) -> bool:
    return key_type is not None and key_type in av


def _partitions(where: ast.Expr | None, schema: KeySchema, binder: Binder) -> list[bytes] | None:
    """Encoded partition keys fixed by `hash = v` or `hash IN [...]` in the top-level AND."""
    for term in conjuncts(where):
        choices: tuple[ast.Expr, ...] | None = None
        if isinstance(term, ast.Binary) and term.op == "=":
            for path, other in ((term.left, term.right), (term.right, term.left)):
                if path == ast.Path((schema.hash_name,)) and is_constant(other):
                    choices = (other,)
        elif isinstance(term, ast.In) and not term.negated and term.operand == ast.Path((schema.hash_name,)) \
                and all(is_constant(c) for c in term.choices):
            choices = term.choices
            if len(choices) == 1 and isinstance(choices[0], (ast.ListExpr, ast.Param)):
                listed = binder.constant(choices[0])
                choices = tuple(ast.Lit(v) for v in listed["L"]) if "L" in listed else choices
        if choices is not None:
            # A value of another type matches nothing (the filter agrees).
            found = [binder.constant(c) for c in choices]
            return list(dict.fromkeys(encode_key_value(v) for v in found if _typed(v, schema.hash_type)))
    return None


def _range(where: ast.Expr | None, schema: KeySchema, binder: Binder) -> KeyRange:
    """Bounds from the first sort-key test in the top-level AND (a superset of the matches)."""
    name = schema.range_name
    if name is None:
        return KeyRange()
    key_path = ast.Path((name,))
    for term in conjuncts(where):
        if isinstance(term, ast.Binary) and term.op in ("=", "<", "<=", ">", ">="):
            op, other = term.op, term.right
            if term.right == key_path and term.left != key_path:
                op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
                other = term.left
            elif term.left != key_path:
                continue
            if not is_constant(other) or not _typed(value := binder.constant(other), schema.range_type):
                continue
            bound = encode_key_value(value)
            return {"=": KeyRange(bound, True, bound, True), "<": KeyRange(high=bound, high_inclusive=False),
                    "<=": KeyRange(high=bound), ">": KeyRange(low=bound, low_inclusive=False),
                    ">=": KeyRange(low=bound)}[op]
        if isinstance(term, ast.Between) and not term.negated and term.operand == key_path \
                and is_constant(term.low) and is_constant(term.high):
            low, high = binder.constant(term.low), binder.constant(term.high)
            if _typed(low, schema.range_type) and _typed(high, schema.range_type):
                return KeyRange(encode_key_value(low), True, encode_key_value(high), True)
        if isinstance(term, ast.Call) and term.name == "begins_with" and len(term.args) == 2 \
                and term.args[0] == key_path and is_constant(term.args[1]):
            prefix = binder.constant(term.args[1])
            if schema.range_type in ("S", "B") and _typed(prefix, schema.range_type):
                low = encode_key_value(prefix)
                return KeyRange(low=low, high=_prefix_end(low), high_inclusive=False)
    return KeyRange()


async def resolve_target(req: Request, target: ast.Target, consistent: bool
                         ) -> tuple[TableRecord, IndexSpec | None]:
    table = await get_table(req, target.table)
    index = None
    if target.index is not None:
        index = rc.resolve_index(table, {"IndexName": target.index, "ConsistentRead": consistent})
        if index.schema.composite:  # DynamoDB's PartiQL reads no multi-attribute index
            raise errors.ValidationException(errors.PARTIQL_MULTI_ATTRIBUTE_INDEX)
    return table, index


async def prepare_select(req: Request, statement: str, stmt: ast.Select, params: list[dict[str, Any]],
                         data: dict[str, Any]) -> SelectPlan:
    consistent = bool(data.get("ConsistentRead"))
    binder = Binder(params)
    condition_text = binder.condition(stmt.where) if stmt.where is not None else None
    projection_text = ", ".join(binder.path(p) for p in stmt.projection) if stmt.projection else None
    table, index = await resolve_target(req, stmt.target, consistent)
    schema = index.schema if index is not None else table.extra["schema"]
    attrs = binder.attributes()
    condition = bare(expressions.parse_condition, condition_text, attrs, "FilterExpression") if condition_text else None
    projection = bare(expressions.parse_projection, projection_text, attrs) if projection_text else None

    partitions = _partitions(stmt.where, schema, binder)
    forward = True
    if stmt.order_by is not None:
        path, forward = stmt.order_by
        if partitions is None:
            raise errors.ValidationException(errors.PARTIQL_ORDER_BY_NEEDS_HASH)
        if path != ast.Path((schema.range_name,)):
            raise errors.ValidationException(errors.PARTIQL_ORDER_BY_RANGE_ONLY)
    rng = _range(stmt.where, schema, binder) if partitions is not None else KeyRange()
    rc.check_index_select(index, None)
    rc.needs_base_items(index, None, projection, condition)  # GSI projection checks
    names = rc.start_key_names(table, index)
    read = rc.ReadPlan(table, index, None, projection, condition, data.get("Limit"), consistent, names,
                       capacity.requested(data))
    return SelectPlan(read, schema, partitions, rng, forward, _digest(statement, params))


# --- NextToken: the position after the last item read, bound to its statement ---

def _position(plan: SelectPlan, item: dict[str, Any]) -> list[Any]:
    table, index = plan.read.table, plan.read.index
    pk, sk = key_from_item(table.extra["schema"], item)
    if index is None:
        inner: list[bytes] = [sk] if plan.partitions is not None else [pk, sk]
        part = pk
    else:
        ih, ir = index_key(index, item)  # type: ignore[misc]
        inner = [ir, pk, sk] if plan.partitions is not None else [ih, ir, pk, sk]
        part = ih
    where = plan.partitions.index(part) if plan.partitions is not None else 0
    return [where, [b.hex() for b in inner]]


def encode_next_token(plan: SelectPlan, item: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps({"d": plan.digest, "p": _position(plan, item)})).decode()


def decode_next_token(plan: SelectPlan, token: str | None) -> Any:
    """The fetch cursor a NextToken stands for (None: from the start)."""
    if token is None:
        return (0, None) if plan.partitions is not None else None
    try:
        decoded = orjson.loads(base64.b64decode(token, validate=True))
        if decoded["d"] != plan.digest:
            raise ValueError("token of another statement")
        where, inner = decoded["p"]
        after = tuple(bytes.fromhex(h) for h in inner)
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise errors.ValidationException(errors.PARTIQL_INVALID_NEXT_TOKEN) from None
    if plan.partitions is None:
        return after
    return (int(where), after[0] if plan.read.index is None else after)


# --- running it ------------------------------------------------------------------

def _fetcher(req: Request, plan: SelectPlan) -> rc.Fetch:
    backend = req.reader(plan.read.consistent)
    table, index = plan.read.table, plan.read.index
    fetch_base = rc.needs_base_items(index, None, plan.read.projection, plan.read.condition)

    async def index_rows(rows: list[Any], body_at: int, size_at: int, pk_at: int) -> list[rc.Row]:
        out = [rc.Row(r[body_at], r[size_at], r[size_at], False) for r in rows]
        if fetch_base:
            out = await rc.with_base_items(backend, table, [(r[pk_at], r[pk_at + 1], row) for r, row in zip(rows, out)])
        return out

    if plan.partitions is None:
        async def scan(after: Any, n: int) -> rc.Batch:
            if index is None:
                rows = await backend.scan(table.id, after, None, n)
                out = [rc.Row(body, size) for _, _, body, size in rows]
                last = (bytes(rows[-1][0]), bytes(rows[-1][1])) if rows else after
            else:
                rows = await backend.scan_index(index.id, after, n)
                out = await index_rows(rows, 4, 5, 2)
                last = tuple(bytes(x) for x in rows[-1][:4]) if rows else after
            return rc.Batch(out, len(rows) < n, last)
        return scan

    partitions = plan.partitions

    async def query(cursor: tuple[int, Any], n: int) -> rc.Batch:
        where, after = cursor
        if where >= len(partitions):
            return rc.Batch([], True, cursor)
        if index is None:
            rows = await backend.query(table.id, partitions[where], plan.rng, plan.forward, after, n)
            out = [rc.Row(body, size) for _, body, size in rows]
            last = bytes(rows[-1][0]) if rows else after
        else:
            rows = await backend.query_index(index.id, partitions[where], plan.rng, plan.forward, after, n)
            out = await index_rows(rows, 3, 4, 1)
            last = tuple(bytes(x) for x in rows[-1][:3]) if rows else after
        if len(rows) < n:  # this partition is done: the next one starts from its beginning
            return rc.Batch(out, where + 1 >= len(partitions), (where + 1, None))
        return rc.Batch(out, False, (where, last))
    return query


def select_paths(item: dict[str, Any], projection: Any) -> dict[str, Any]:
    """A SELECT list's values: a nested path ending in a name gives that name
    (`SELECT a.b` answers {"b": ...}, PartiQL's alias of a path), unlike a
    ProjectionExpression; top-level names and paths ending in a list index keep
    the nested shape (DynamoDB's answer for those is unpublished)."""
    named = [path for path in projection.paths if len(path) > 1 and isinstance(path[-1], str)]
    out = expressions.project_paths(item, [path for path in projection.paths if path not in named])
    for path in named:
        value = expressions.get_path(item, path)
        if value is not None:
            out[path[-1]] = value
    return out


async def run_select(req: Request, plan: SelectPlan, next_token: str | None) -> dict[str, Any]:
    cursor = decode_next_token(plan, next_token)
    rc.admit(plan.read)
    rows, stopped = await rc.collect(plan.read, _fetcher(req, plan), cursor)
    read = plan.read
    items = [row.item for row in rows]
    if read.condition is not None:
        items = [item for item in items if expressions.evaluate_condition(read.condition, item)]
    if read.projection is not None:
        items = [select_paths(item, read.projection) for item in items]
    out: dict[str, Any] = {"Items": items}
    if stopped and rows:
        last = rows[-1].item
        out["NextToken"] = encode_next_token(plan, last)
        out["LastEvaluatedKey"] = {name: last[name] for name in read.names if name in last}
    consumed = rc.consumed(read, rows)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


# --- single-item reads (BatchExecuteStatement, ExecuteTransaction) ------------------

@dataclass
class PreparedGet:
    table: TableRecord
    pk: bytes
    sk: bytes
    projection: Any

    def result(self, raw: bytes | None) -> dict[str, Any] | None:
        """The item to return (None: absent)."""
        return None if raw is None else self.project(orjson.loads(raw))

    def project(self, item: dict[str, Any]) -> dict[str, Any]:
        return select_paths(item, self.projection) if self.projection is not None else item


async def prepare_get(req: Request, stmt: ast.Select, params: list[dict[str, Any]], operation: str) -> PreparedGet:
    """A SELECT of BatchExecuteStatement or ExecuteTransaction: one item, named by
    equalities on its whole primary key and nothing else, read from the table."""
    binder = Binder(params)
    table = await get_table(req, stmt.target.table)
    schema = table.extra["schema"]
    if stmt.target.index is not None:
        index = next((i for i in table.extra["indexes"] if i.name == stmt.target.index), None)
        if index is not None and index.schema.composite:
            raise errors.ValidationException(errors.PARTIQL_MULTI_ATTRIBUTE_INDEX)
    try:
        key, rest = split_key(stmt.where, schema.names, binder)
    except errors.ValidationException as exc:
        if exc.message != errors.PARTIQL_MANDATORY_KEY:
            raise
        key, rest = {}, None
    if stmt.target.index is not None or rest is not None or len(key) != len(schema.names):
        raise errors.partiql_select_needs_key(operation)
    projection_text = ", ".join(binder.path(p) for p in stmt.projection) if stmt.projection else None
    projection = bare(expressions.parse_projection, projection_text, binder.attributes()) if projection_text else None
    pk, sk = key_from_key_param(schema, key)
    return PreparedGet(table, pk, sk, projection)
