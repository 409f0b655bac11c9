"""TransactGetItems and TransactWriteItems: all or nothing, isolated."""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import orjson

from storage.backends import TableRecord, Transaction

from extenddb_site import metrics

from .. import capacity, errors, expressions, indexes, item_collections, throttle, values
from ..dispatch import Request
from ..keys import key_from_key_param
from .items import (PreparedWrite, WriteOutcome, WritesFailed, prepare_condition_check, prepare_delete,
                    prepare_put, prepare_update, projection_for, validate_key_values, write_many, write_need,
                    written_units)
from .tables import get_table

TOKEN_SECONDS = 600  # ClientRequestToken is remembered for 10 minutes
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
_ACTIONS = ("ConditionCheck", "Put", "Delete", "Update")


def _one_action(entry: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    present = [k for k in kinds if k in entry]
    if len(present) != 1:
        raise errors.ValidationException(
            f"TransactItems can only contain one of {', '.join(kinds[:-1])} or {kinds[-1]}")
    return present[0], entry[present[0]]


def check_distinct(targets: list[Any]) -> None:
    """No two actions on one item (.table, .pk, .sk); TransactWriteItems, TransactGetItems
    and ExecuteTransaction refuse them with the same message."""
    seen: set[tuple[int, bytes, bytes]] = set()
    for target in targets:
        key = (target.table.id, target.pk, target.sk)
        if key in seen:
            raise errors.ValidationException(errors.PARTIQL_TRANSACTION_DUPLICATES)
        seen.add(key)


async def check_token(req: Request, data: dict[str, Any]) -> tuple[bytes, dict[str, Any] | None]:
    """For a ClientRequestToken: the request's hash, and the response to replay if the
    token was used in the last 10 minutes. The same token with other content is refused."""
    token = data.get("ClientRequestToken")
    if token is None:
        return b"", None
    body = {k: v for k, v in data.items() if k != "ClientRequestToken"}
    request_hash = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    previous = await req.runtime.backend.fetch_token(token)
    if previous is None or previous[2] <= time.time() - TOKEN_SECONDS:
        return request_hash, None
    if previous[0] != request_hash:
        raise errors.IdempotentParameterMismatch(
            "The request uses the same client token as a previous, but non-identical request.")
    return request_hash, orjson.loads(previous[1])


async def save_token(txn: Transaction, token: str | None, request_hash: bytes, response: dict[str, Any]) -> None:
    """Remember a ClientRequestToken's response, in the transaction that earned it."""
    if token is not None:
        now = time.time()
        await txn.insert_token(token, request_hash, orjson.dumps(response), now, now - TOKEN_SECONDS)


def admit_writes(writes: list[PreparedWrite]) -> list[tuple[throttle.TableLimits | None, float]]:
    """The capacity of every action's table, before any work: a refused action cancels
    the transaction, its reason ProvisionedThroughputExceeded (ThrottlingError for an
    on-demand maximum). Each action's limits and the units it took."""
    admitted: list[tuple[throttle.TableLimits | None, float]] = []
    refused: list[tuple[errors.DynamoDBError, None] | None] = []
    for write in writes:
        need = write_need(write, True)
        limits = throttle.limits(write.table)
        limit = throttle.try_write(limits, need) if limits.write or limits.gsi_write else None
        refused.append((throttle.error(limit), None) if limit is not None else None)
        admitted.append((limits, need))
    if any(refused):
        raise errors.transaction_canceled(refused)
    return admitted


def admit_reads(tables: list[TableRecord]) -> list[throttle.Limit | None]:
    """admit_writes for transactional reads (each pays 2 units first): their limits."""
    need = capacity.read_units(0, True, True)
    buckets: list[throttle.Limit | None] = []
    refused: list[tuple[errors.DynamoDBError, None] | None] = []
    for table in tables:
        limit = throttle.limits(table).read
        ok = limit is None or throttle.admit(limit, need)
        buckets.append(limit)
        refused.append(None if ok or limit is None else (throttle.error(limit), None))
    if any(refused):
        raise errors.transaction_canceled(refused)
    return buckets


async def commit_writes(req: Request, data: dict[str, Any], writes: list[PreparedWrite],
                        admitted: list[tuple[throttle.TableLimits | None, float]], request_hash: bytes,
                        response: dict[str, Any], index_costs: bool = False) -> None:
    """Run the admitted actions in one transaction, all or none (a failed condition cancels
    them all). In it, charge each action's units, put ConsumedCapacity (with the index
    entries' costs if `index_costs`) in `response` and remember it for the ClientRequestToken."""
    async def remember(txn: Transaction, outcomes: list[WriteOutcome]) -> None:
        units: dict[str, float] = {}
        index_units: dict[str, list[tuple[Any, float]]] = {}
        for write, outcome, (limits, need) in zip(writes, outcomes, admitted):
            used = written_units(write, outcome, True)
            throttle.charge_write(limits, write.table, used, need, outcome.old, outcome.new, True)
            metrics.consumed(write.table.name, write_units=used)
            units[write.table.name] = units.get(write.table.name, 0.0) + used
            if index_costs and capacity.requested(data):  # sizes of index entries only when asked for
                index_units.setdefault(write.table.name, []).extend(
                    indexes.write_costs(write.table.extra["indexes"], outcome.old, outcome.new, True))
        consumed = capacity.per_table(data, units, "WriteCapacityUnits", index_units)
        if consumed is not None:
            response["ConsumedCapacity"] = consumed
        await save_token(txn, data.get("ClientRequestToken"), request_hash, response)

    try:
        await write_many(req, writes, remember)
    except WritesFailed as failed:
        raise errors.transaction_canceled(failed.failures) from None


async def transact_write_items(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    request_hash, previous = await check_token(req, data)
    if previous is not None:
        return previous

    # Validate every action before touching anything.
    writes: list[PreparedWrite] = []
    bad_keys: list[tuple[errors.DynamoDBError, None] | None] = []
    for entry in data["TransactItems"]:
        kind, action = _one_action(entry, _ACTIONS)
        try:
            if kind == "Put":
                write = await prepare_put(req, action)
            elif kind == "Delete":
                write = await prepare_delete(req, action)
            elif kind == "Update":
                write = await prepare_update(req, action)
            else:
                write = await prepare_condition_check(req, action)
        except errors.InvalidKey as exc:
            bad_keys.append((exc, None))
            continue
        bad_keys.append(None)
        write.return_values = "NONE"
        write.writes = kind != "ConditionCheck"
        writes.append(write)
    if any(bad_keys):
        raise errors.transaction_canceled(bad_keys)
    check_distinct(writes)
    total = sum(w.blind_size for w in writes if w.blind_item is not None)
    if total > MAX_TRANSACTION_BYTES:
        raise errors.ValidationException("Transaction size has exceeded the maximum allowed size")
    admitted = admit_writes(writes)
    for write in writes:
        write.blind_item = None  # every action goes through the shared transaction

    response: dict[str, Any] = {}
    await commit_writes(req, data, writes, admitted, request_hash, response, index_costs=True)
    # Measured after the commit (a replayed ClientRequestToken answers without them).
    collections = await item_collections.per_table(req.runtime.backend, data, [w for w in writes if w.writes])
    if collections is not None:
        response["ItemCollectionMetrics"] = collections
    return response


async def transact_get_items(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    plans = []
    bad_keys: list[tuple[errors.DynamoDBError, None] | None] = []
    for entry in data["TransactItems"]:
        _, get = _one_action(entry, ("Get",))
        key = validate_key_values(get["Key"])
        attrs = expressions.ExpressionAttributes(get.get("ExpressionAttributeNames"), None)
        projection = projection_for(get, attrs)
        attrs.check_unused()
        table = await get_table(req, get["TableName"])
        try:
            pk, sk = key_from_key_param(table.extra["schema"], key)
        except errors.InvalidKey as exc:
            bad_keys.append((exc, None))
            continue
        bad_keys.append(None)
        plans.append((table, pk, sk, projection))
    if any(bad_keys):
        raise errors.transaction_canceled(bad_keys)
    check_distinct([_Key(t, pk, sk) for t, pk, sk, _ in plans])


    def project(i: int, item: dict[str, Any]) -> dict[str, Any]:
        projection = plans[i][3]
        return expressions.project(item, projection) if projection is not None else item

    return await read_snapshot(req, data, [_Key(t, pk, sk) for t, pk, sk, _ in plans], project)


async def read_snapshot(req: Request, data: dict[str, Any], keys: list[Any],
                        project: Callable[[int, dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Transactional reads of distinct keys (.table, .pk, .sk) from one consistent snapshot,
    each table charged its units: the response, the i-th item shown as project(i, item)."""
    need = capacity.read_units(0, True, True)
    buckets = admit_reads([key.table for key in keys])
    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    async with req.runtime.backend.snapshot() as snap:
        for i, (key, limit) in enumerate(zip(keys, buckets)):
            raw = await snap.get_item(key.table.id, key.pk, key.sk)
            size = 0
            if raw is None:
                responses.append({})
            else:
                item = orjson.loads(raw)
                size = values.item_size(item)
                responses.append({"Item": project(i, item)})
            used = capacity.read_units(size, True, True)
            if limit is not None:
                throttle.charge(limit, used - need)
            metrics.consumed(key.table.name, read_units=used)
            units[key.table.name] = units.get(key.table.name, 0.0) + used
    out: dict[str, Any] = {"Responses": responses}
    consumed = capacity.per_table(data, units, "ReadCapacityUnits")
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


class _Key:
    __slots__ = ("table", "pk", "sk")

    def __init__(self, table: Any, pk: bytes, sk: bytes) -> None:
        self.table, self.pk, self.sk = table, pk, sk


HANDLERS = {
    "TransactWriteItems": transact_write_items,
    "TransactGetItems": transact_get_items,
}
