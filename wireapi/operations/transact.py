"""TransactGetItems and TransactWriteItems: all or nothing, isolated."""
from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson

from storage.backends import Transaction

from .. import capacity, errors, expressions, indexes, item_collections, values
from ..dispatch import Request
from ..keys import key_from_key_param
from .items import (PreparedWrite, WriteOutcome, WritesFailed, prepare_condition_check, prepare_delete,
                    prepare_put, prepare_update, projection_for, validate_key_values, write_many)
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


def _check_distinct(writes: list[Any]) -> None:
    seen: set[tuple[int, bytes, bytes]] = set()
    for write in writes:
        key = (write.table.id, write.pk, write.sk)
        if key in seen:
            raise errors.ValidationException("Transaction request cannot include multiple operations on one item")
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


async def transact_write_items(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    token = data.get("ClientRequestToken")
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
    _check_distinct(writes)
    total = sum(w.blind_size for w in writes if w.blind_item is not None)
    if total > MAX_TRANSACTION_BYTES:
        raise errors.ValidationException("Transaction size has exceeded the maximum allowed size")
    for write in writes:
        write.blind_item = None  # every action goes through the shared transaction

    response: dict[str, Any] = {}

    async def remember(txn: Transaction, outcomes: list[WriteOutcome]) -> None:
        units: dict[str, float] = {}
        index_units: dict[str, list[tuple[Any, float]]] = {}
        for write, outcome in zip(writes, outcomes):
            size = max(values.item_size(outcome.new) if outcome.new else 0,
                       values.item_size(outcome.old) if outcome.old else 0)
            units[write.table.name] = units.get(write.table.name, 0.0) + capacity.write_units(size, True)
            index_units.setdefault(write.table.name, []).extend(
                indexes.write_costs(write.table.extra["indexes"], outcome.old, outcome.new, True))
        consumed = capacity.per_table(data, units, "WriteCapacityUnits", index_units)
        if consumed is not None:
            response["ConsumedCapacity"] = consumed
        await save_token(txn, token, request_hash, response)

    try:
        await write_many(req, writes, remember)
    except WritesFailed as failed:
        raise errors.transaction_canceled(failed.failures) from None
    # Measured after the commit (a replayed ClientRequestToken answers without them).
    metrics = await item_collections.per_table(req.runtime.backend, data, [w for w in writes if w.writes])
    if metrics is not None:
        response["ItemCollectionMetrics"] = metrics
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
    _check_distinct([_Key(t, pk, sk) for t, pk, sk, _ in plans])

    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    async with req.runtime.backend.snapshot() as snap:
        for table, pk, sk, projection in plans:
            raw = await snap.get_item(table.id, pk, sk)
            size = 0
            if raw is None:
                responses.append({})
            else:
                item = orjson.loads(raw)
                size = values.item_size(item)
                responses.append({"Item": expressions.project(item, projection) if projection is not None else item})
            units[table.name] = units.get(table.name, 0.0) + capacity.read_units(size, True, True)
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
