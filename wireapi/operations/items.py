"""PutItem, GetItem, DeleteItem, UpdateItem."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from storage.backends import StaleSchema, TableRecord, Transaction, WriteConflict

from .. import capacity, changes, errors, expressions, indexes, item_collections, pitr, values
from ..dispatch import STALE_RETRIES, Request
from ..expressions import legacy
from ..keys import key_from_item, key_from_key_param
from .tables import get_table

_WRITE_RETRIES = 8


# --- shared pieces ------------------------------------------------------------

def consumed_capacity(data: dict[str, Any], table: TableRecord, units: float,
                      index_units: list[tuple[Any, float]] | None = None) -> dict[str, Any] | None:
    mode = capacity.requested(data)
    if mode is None:
        return None
    out: dict[str, Any] = {"TableName": table.name, "CapacityUnits": units}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": units}
    return capacity.with_indexes(out, mode, index_units or [])


def condition_for(data: dict[str, Any], attrs: expressions.ExpressionAttributes) -> Any:
    """The parsed ConditionExpression or legacy Expected, or None."""
    if "ConditionExpression" in data:
        return expressions.parse_condition(data["ConditionExpression"], attrs, "ConditionExpression")
    legacy.check_conditional_operator(data, "Expected")
    if data.get("Expected"):
        return legacy.condition_from_expected(data["Expected"], data.get("ConditionalOperator"))
    return None


def projection_for(data: dict[str, Any], attrs: expressions.ExpressionAttributes) -> Any:
    if "ProjectionExpression" in data:
        return expressions.parse_projection(data["ProjectionExpression"], attrs)
    if data.get("AttributesToGet"):
        return legacy.projection_from_attributes_to_get(data["AttributesToGet"])
    return None


def validate_key_values(key: dict[str, Any]) -> dict[str, Any]:
    return {name: values.validate_value(av) for name, av in key.items()}


def check_return_values(data: dict[str, Any], allowed: tuple[str, ...]) -> str:
    rv = data.get("ReturnValues", "NONE")
    if rv not in allowed:
        raise errors.ValidationException(f"ReturnValues can only be {' or '.join(allowed)}")
    return rv


@dataclass
class WriteOutcome:
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    detail: Any = None  # whatever the decision function wants to hand back


# Given the current item (None: absent), check conditions and return the new item
# (None deletes it; the very same object leaves it untouched) and a detail.
Decide = Callable[[dict[str, Any] | None], tuple[dict[str, Any] | None, Any]]


@dataclass
class PreparedWrite:
    """A validated single-item write, ready to run alone or inside a batch or transaction."""

    table: TableRecord
    pk: bytes
    sk: bytes
    key: dict[str, Any]
    decide: Decide
    return_values: str = "NONE"
    # PutItem without condition, return values or indexes needs no read.
    blind_item: dict[str, Any] | None = None
    blind_size: int = 0  # its size, computed once when it was checked
    writes: bool = True  # False: a transaction's ConditionCheck


async def write_item(req: Request, table: TableRecord, pk: bytes, sk: bytes, decide: Decide) -> WriteOutcome:
    """Read the item with its row locked, let `decide` check conditions and build
    the new item (None deletes), and write it, all in one transaction."""
    backend = req.runtime.backend
    if backend.compare_and_set_supported and not changes.needs_old_item(table):
        # Only the item row changes (as for blind puts): read it unlocked and write it
        # back only if it is unchanged, in one statement; if it changed, lock and redo.
        raw = await backend.get_item(table.id, pk, sk)
        old = orjson.loads(raw) if raw is not None else None
        new, detail = decide(old)
        if new is old or (new is None and old is None):
            return WriteOutcome(old, new, detail)
        body = orjson.dumps(new) if new is not None else None
        size = values.item_size(new) if new is not None else 0
        if await backend.compare_and_set(table.id, pk, sk, None if raw is None else bytes(raw), body, size,
                                         table.version):
            return WriteOutcome(old, new, detail)
    for _ in range(_WRITE_RETRIES):
        try:
            async with backend.transaction() as txn:
                raw = await txn.get_item(table.id, pk, sk, table.version)
                old = orjson.loads(raw) if raw is not None else None
                new, detail = decide(old)
                if new is old:
                    return WriteOutcome(old, new, detail)  # a condition check: nothing to write
                if new is not None:
                    body = orjson.dumps(new)
                    await txn.put_item(table.id, pk, sk, body, values.item_size(new), old is not None)
                elif old is not None:
                    await txn.delete_item(table.id, pk, sk)
                await changes.apply_change(txn, table, pk, sk, old, new)
            return WriteOutcome(old, new, detail)
        except WriteConflict:
            continue  # another writer inserted the row first: read it and decide again
    raise errors.TransactionConflict("Transaction is ongoing for the item")


class WritesFailed(Exception):
    """Some writes of write_many failed; nothing was written. `failures[i]` is
    (error, current item) for each failed write, None for the others."""

    def __init__(self, failures: list[tuple[errors.DynamoDBError, dict[str, Any] | None] | None]) -> None:
        super().__init__("writes failed")
        self.failures = failures


async def write_many(req: Request, writes: list[PreparedWrite],
                     before_commit: Callable[[Transaction, list[WriteOutcome]], Awaitable[None]] | None = None,
                     ) -> list[WriteOutcome]:
    """Run several single-item writes in one transaction: all or nothing.

    Rows are locked in key order, so concurrent multi-item writes cannot
    deadlock. If any write's decision fails, every decision is still made (so
    each failure can be reported) and WritesFailed is raised; nothing is written."""
    backend = req.runtime.backend
    order = sorted(range(len(writes)), key=lambda i: (writes[i].table.id, writes[i].pk, writes[i].sk))
    for _ in range(_WRITE_RETRIES):
        outcomes: list[WriteOutcome | None] = [None] * len(writes)
        failures: list[tuple[errors.DynamoDBError, dict[str, Any] | None] | None] = [None] * len(writes)
        try:
            async with backend.transaction() as txn:
                for i in order:
                    write = writes[i]
                    raw = await txn.get_item(write.table.id, write.pk, write.sk, write.table.version)
                    old = orjson.loads(raw) if raw is not None else None
                    try:
                        new, detail = write.decide(old)
                    except errors.DynamoDBError as exc:
                        failures[i] = (exc, old)
                        continue
                    outcomes[i] = WriteOutcome(old, new, detail)
                    if new is old or any(failures):
                        continue  # a condition check, or the whole transaction is failing anyway
                    if new is not None:
                        await txn.put_item(write.table.id, write.pk, write.sk, orjson.dumps(new),
                                           values.item_size(new), old is not None)
                    elif old is not None:
                        await txn.delete_item(write.table.id, write.pk, write.sk)
                    await changes.apply_change(txn, write.table, write.pk, write.sk, old, new)
                if any(failures):
                    raise WritesFailed(failures)  # inside the transaction: it rolls back
                if before_commit is not None:
                    await before_commit(txn, outcomes)  # type: ignore[arg-type]
            return outcomes  # type: ignore[return-value]
        except WriteConflict:
            continue
    raise errors.TransactionConflict("Transaction is ongoing for the item")


def check_condition(condition: Any, old: dict[str, Any] | None, data: dict[str, Any]) -> None:
    if condition is not None and not expressions.evaluate_condition(condition, old):
        extra = {}
        if data.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
            extra["Item"] = old
        raise errors.ConditionalCheckFailed(**extra)


# --- preparing writes (validation in DynamoDB's order, then the table) ----------

def _attrs(data: dict[str, Any]) -> expressions.ExpressionAttributes:
    return expressions.ExpressionAttributes(data.get("ExpressionAttributeNames"),
                                            data.get("ExpressionAttributeValues"))


async def prepare_put(req: Request, data: dict[str, Any],
                      allowed_return: tuple[str, ...] = ("ALL_OLD", "NONE")) -> PreparedWrite:
    expressions.validate_expression_params(data, ("ConditionExpression",), ("Expected", "ConditionalOperator"))
    item = values.validate_item(data["Item"])
    return_values = check_return_values(data, allowed_return)
    size = values.check_item_size(item)
    attrs = _attrs(data)
    condition = condition_for(data, attrs)
    attrs.check_unused()

    table = await get_table(req, data["TableName"])
    schema = table.extra["schema"]
    pk, sk = key_from_item(schema, item)
    indexes.check_index_keys(table.extra["indexes"], item)

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        check_condition(condition, old, data)
        return item, None

    blind = condition is None and return_values == "NONE" and not changes.blind_put_needs_old_item(table)
    key = {name: item[name] for name in schema.names}
    return PreparedWrite(table, pk, sk, key, decide, return_values, item if blind else None, size)


async def prepare_delete(req: Request, data: dict[str, Any],
                         allowed_return: tuple[str, ...] = ("ALL_OLD", "NONE")) -> PreparedWrite:
    expressions.validate_expression_params(data, ("ConditionExpression",), ("Expected", "ConditionalOperator"))
    key = validate_key_values(data["Key"])
    return_values = check_return_values(data, allowed_return)
    attrs = _attrs(data)
    condition = condition_for(data, attrs)
    attrs.check_unused()

    table = await get_table(req, data["TableName"])
    pk, sk = key_from_key_param(table.extra["schema"], key)

    def decide(old: dict[str, Any] | None) -> tuple[None, None]:
        check_condition(condition, old, data)
        return None, None

    return PreparedWrite(table, pk, sk, key, decide, return_values)


async def prepare_update(req: Request, data: dict[str, Any]) -> PreparedWrite:
    expressions.validate_expression_params(
        data, ("UpdateExpression", "ConditionExpression"), ("AttributeUpdates", "Expected", "ConditionalOperator"))
    key = validate_key_values(data["Key"])
    attrs = _attrs(data)
    if "UpdateExpression" in data:
        plan = expressions.parse_update(data["UpdateExpression"], attrs)
    elif data.get("AttributeUpdates"):
        plan = legacy.update_from_attribute_updates(data["AttributeUpdates"])
    else:
        plan = None
    condition = condition_for(data, attrs)
    attrs.check_unused()

    table = await get_table(req, data["TableName"])
    schema = table.extra["schema"]
    pk, sk = key_from_key_param(schema, key)
    if plan is not None:
        expressions.check_key_not_updated(plan, schema.names)
    removes_only = plan is not None and all(a.kind in ("REMOVE", "DELETE") for a in plan.actions)

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any] | None, Any]:
        check_condition(condition, old, data)
        if plan is None:
            return (dict(old) if old is not None else dict(key)), ()
        if old is None and removes_only:
            return None, ()  # only removals, as DynamoDB: no item is created
        result = expressions.apply_update(plan, old, key)
        new = result.item
        indexes.check_index_keys(table.extra["indexes"], new)
        values.check_item_size(new)
        return new, result.updated_paths

    return PreparedWrite(table, pk, sk, key, decide, data.get("ReturnValues", "NONE"))


async def prepare_condition_check(req: Request, data: dict[str, Any]) -> PreparedWrite:
    """TransactWriteItems' ConditionCheck: a condition on an item, no write."""
    key = validate_key_values(data["Key"])
    attrs = _attrs(data)
    condition = expressions.parse_condition(data["ConditionExpression"], attrs, "ConditionExpression")
    attrs.check_unused()
    table = await get_table(req, data["TableName"])
    pk, sk = key_from_key_param(table.extra["schema"], key)

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        check_condition(condition, old, data)
        return old, None

    return PreparedWrite(table, pk, sk, key, decide)


async def run_write_redone(req: Request, write: PreparedWrite,
                           prepare: Callable[[], Awaitable[PreparedWrite]]) -> tuple[PreparedWrite, WriteOutcome]:
    """run_write, preparing the write again if its table changed meanwhile (StaleSchema),
    for requests that make several independent writes: redoing the whole request
    (wireapi.app) would repeat the writes already made."""
    for attempt in range(STALE_RETRIES):
        try:
            return write, await run_write(req, write)
        except StaleSchema:
            req.runtime.catalog.invalidate()
            if attempt == STALE_RETRIES - 1:
                raise errors.InternalServerError() from None
            write = await prepare()
    raise AssertionError("unreachable")


async def run_write(req: Request, write: PreparedWrite) -> WriteOutcome:
    if write.blind_item is not None:
        item = write.blind_item
        source = pitr.history_source(write.table)
        if source is None:
            await req.runtime.backend.put_item(write.table.id, write.pk, write.sk, orjson.dumps(item),
                                               write.blind_size, write.table.version)
        else:  # the new version goes to the table's history in the same transaction
            await req.runtime.backend.put_item_with_history(write.table.id, write.pk, write.sk, orjson.dumps(item),
                                                            write.blind_size, write.table.version, source)
        return WriteOutcome(None, item)  # the old item is not read; its size counts as 0
    return await write_item(req, write.table, write.pk, write.sk, write.decide)


def write_response(data: dict[str, Any], write: PreparedWrite, outcome: WriteOutcome) -> dict[str, Any]:
    """Attributes per ReturnValues, and ConsumedCapacity."""
    old, new, rv = outcome.old, outcome.new, write.return_values
    out: dict[str, Any] = {}
    if rv == "ALL_OLD" and old:
        out["Attributes"] = old
    elif rv == "ALL_NEW" and new:
        out["Attributes"] = new
    elif rv in ("UPDATED_OLD", "UPDATED_NEW"):
        source = old if rv == "UPDATED_OLD" else new
        if source:
            attributes = expressions.project_paths(source, outcome.detail)
            if attributes:
                out["Attributes"] = attributes
    if capacity.requested(data):  # sizes only when asked for
        size = max(values.item_size(new) if new else 0, values.item_size(old) if old else 0)
        out["ConsumedCapacity"] = consumed_capacity(
            data, write.table, capacity.write_units(size),
            indexes.write_costs(write.table.extra["indexes"], old, new) if write.blind_item is None else [])
    return out


# --- operations -----------------------------------------------------------------

async def _respond(req: Request, data: dict[str, Any], write: PreparedWrite) -> dict[str, Any]:
    out = write_response(data, write, await run_write(req, write))
    if item_collections.wanted(data, write.table):
        out["ItemCollectionMetrics"] = await item_collections.metrics(
            req.runtime.backend, write.table, write.pk, write.key)
    return out


async def put_item(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return await _respond(req, data, await prepare_put(req, data))


async def delete_item(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return await _respond(req, data, await prepare_delete(req, data))


async def update_item(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return await _respond(req, data, await prepare_update(req, data))


async def get_item(req: Request, data: dict[str, Any]) -> dict[str, Any] | bytes:
    expressions.validate_expression_params(data, ("ProjectionExpression",), ("AttributesToGet",))
    key = validate_key_values(data["Key"])
    attrs = expressions.ExpressionAttributes(data.get("ExpressionAttributeNames"), None)
    projection = projection_for(data, attrs)
    attrs.check_unused()

    table = await get_table(req, data["TableName"])
    pk, sk = key_from_key_param(table.extra["schema"], key)
    raw = await req.reader(bool(data.get("ConsistentRead"))).get_item(table.id, pk, sk)
    wants_capacity = capacity.requested(data) is not None
    if projection is None and not wants_capacity:
        # The stored body is already the wire JSON: no parse, no re-encode.
        return b'{"Item":' + bytes(raw) + b"}" if raw is not None else b"{}"
    out: dict[str, Any] = {}
    size = 0
    if raw is not None:
        item = orjson.loads(raw)
        size = values.item_size(item)
        out["Item"] = expressions.project(item, projection) if projection is not None else item
    cc = consumed_capacity(data, table, capacity.read_units(size, bool(data.get("ConsistentRead"))))
    if cc:
        out["ConsumedCapacity"] = cc
    return out


HANDLERS = {
    "PutItem": put_item,
    "GetItem": get_item,
    "DeleteItem": delete_item,
    "UpdateItem": update_item,
}
