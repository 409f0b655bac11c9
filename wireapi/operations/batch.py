"""BatchGetItem and BatchWriteItem."""
from __future__ import annotations

from typing import Any

import orjson

from extenddb_site import metrics

from .. import capacity, errors, expressions, indexes, item_collections, throttle
from ..dispatch import Request
from ..keys import key_from_key_param
from .items import (PreparedWrite, WritesFailed, prepare_delete, prepare_put, projection_for,
                    validate_key_values, write_many, write_need, written_units)
from .tables import get_table

MAX_GET_KEYS = 100
MAX_WRITES = 25
# DynamoDB stops adding items once the response passes 16 MB and returns the
# rest as UnprocessedKeys.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DUPLICATE_KEYS = "Provided list of item keys contains duplicates"


async def batch_get_item(req: Request, data: dict[str, Any]) -> bytes:
    requests = data["RequestItems"]
    plans = []
    count = 0
    for table_name, spec in requests.items():
        expressions.validate_expression_params(spec, ("ProjectionExpression",), ("AttributesToGet",))
        attrs = expressions.ExpressionAttributes(spec.get("ExpressionAttributeNames"), None)
        projection = projection_for(spec, attrs)
        attrs.check_unused()
        seen: set[str] = set()
        keys = []
        for key in spec["Keys"]:
            key = validate_key_values(key)
            signature = orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()
            if signature in seen:
                raise errors.ValidationException(DUPLICATE_KEYS)
            seen.add(signature)
            keys.append(key)
            count += 1
            if count > MAX_GET_KEYS:
                raise errors.ValidationException("Too many items requested for the BatchGetItem call")
        plans.append((table_name, spec, projection, keys))

    responses: dict[str, list[bytes]] = {}  # each item's wire JSON
    unprocessed: dict[str, dict[str, Any]] = {}
    units: dict[str, float] = {}
    total_size = 0
    throttled: errors.DynamoDBError | None = None
    admitted_total = 0
    for table_name, spec, projection, keys in plans:
        table = await get_table(req, table_name)
        schema = table.extra["schema"]
        consistent = bool(spec.get("ConsistentRead"))
        need = capacity.read_units(0, consistent)
        # Keys the table's capacity cannot pay for now are returned as UnprocessedKeys.
        admitted, limit = [], throttle.limits(table).read
        for key in keys:
            if limit is not None and not throttle.admit(limit, need):
                throttled = throttle.error(limit)
                _unprocessed(unprocessed, table_name, spec, key)
            else:
                admitted.append(key)
        keys = admitted
        admitted_total += len(keys)
        encoded = [key_from_key_param(schema, key) for key in keys]
        found = await req.reader(consistent).get_items(table.id, encoded) if keys else {}
        items = responses.setdefault(table.name, [])
        units.setdefault(table.name, 0.0)
        read = 0.0
        for key, encoded_key in zip(keys, encoded):
            raw = found.get(encoded_key)
            if raw is None:
                read += need
                continue
            if total_size + len(raw) > MAX_RESPONSE_BYTES:
                _unprocessed(unprocessed, table_name, spec, key)
                continue
            total_size += len(raw)
            read += capacity.read_units_of_body(raw, consistent)
            if projection is not None:
                raw = orjson.dumps(expressions.project(orjson.loads(raw), projection))
            items.append(raw)  # stored bodies are already the wire JSON: no parse, no re-encode
        if limit is not None:
            throttle.charge(limit, read - need * len(keys))
        metrics.consumed(table.name, read_units=read)
        units[table.name] += read
    if throttled is not None and admitted_total == 0:
        raise throttled  # every key was throttled: DynamoDB fails the call
    out = b'{"Responses":{' + b",".join(
        orjson.dumps(name) + b":[" + b",".join(raws) + b"]" for name, raws in responses.items())
    out += b'},"UnprocessedKeys":' + orjson.dumps(unprocessed)
    consumed = capacity.per_table(data, units)
    if consumed is not None:
        out += b',"ConsumedCapacity":' + orjson.dumps(consumed)
    return out + b"}"


def _unprocessed(unprocessed: dict[str, dict[str, Any]], table_name: str, spec: dict[str, Any],
                 key: dict[str, Any]) -> None:
    rest = unprocessed.setdefault(table_name, {k: v for k, v in spec.items() if k != "Keys"})
    rest.setdefault("Keys", []).append(key)


async def batch_write_item(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    requests = data["RequestItems"]
    total = sum(len(reqs) for reqs in requests.values())
    if total > MAX_WRITES:
        raise errors.ValidationException("Too many items requested for the BatchWriteItem call")
    for reqs in requests.values():
        if any(not r for r in reqs):
            raise errors.ValidationException(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
                "supported datatypes")
    # Everything is validated before anything is written: bad input never
    # leaves a partial batch behind.
    writes: list[PreparedWrite] = []
    sources: list[tuple[str, dict[str, Any]]] = []  # each write's table and request, as given
    for table_name, reqs in requests.items():
        seen: set[tuple[bytes, bytes]] = set()
        for request in reqs:
            try:
                if "PutRequest" in request:
                    write = await prepare_put(req, {"TableName": table_name, "Item": request["PutRequest"]["Item"]})
                else:
                    write = await prepare_delete(req, {"TableName": table_name,
                                                       "Key": request["DeleteRequest"]["Key"]})
            except errors.ValidationException as exc:
                if exc.message and ("Missing the key" in exc.message or "Type mismatch for key" in exc.message):
                    raise errors.key_schema_mismatch() from None
                raise
            if (write.pk, write.sk) in seen:
                raise errors.ValidationException(DUPLICATE_KEYS)
            seen.add((write.pk, write.sk))
            writes.append(write)
            sources.append((table_name, request))
    # Writes the capacity cannot pay for now are returned as UnprocessedItems, as given.
    admitted: list[tuple[PreparedWrite, throttle.TableLimits | None, float]] = []
    unprocessed: dict[str, list[dict[str, Any]]] = {}
    throttled: throttle.Limit | None = None
    for write, (table_name, request) in zip(writes, sources):
        need = write_need(write)
        limits = throttle.limits(write.table)
        refused = throttle.try_write(limits, need) if limits.write or limits.gsi_write else None
        if refused is not None:
            throttled = refused
            unprocessed.setdefault(table_name, []).append(request)
        else:
            admitted.append((write, limits, need))
    if throttled is not None and not admitted:
        raise throttle.error(throttled)  # every write was throttled: DynamoDB fails the call
    writes = [w for w, _, _ in admitted]
    try:
        outcomes = await write_many(req, writes)
    except WritesFailed as failed:
        raise next(f[0] for f in failed.failures if f is not None) from None
    units: dict[str, float] = {}
    index_units: dict[str, list[tuple[Any, float]]] = {}
    for (write, limits, need), outcome in zip(admitted, outcomes):
        used = written_units(write, outcome)
        throttle.charge_write(limits, write.table, used, need, outcome.old, outcome.new)
        metrics.consumed(write.table.name, write_units=used)
        units[write.table.name] = units.get(write.table.name, 0.0) + used
        if capacity.requested(data):  # sizes of index entries only when asked for
            index_units.setdefault(write.table.name, []).extend(
                indexes.write_costs(write.table.extra["indexes"], outcome.old, outcome.new))
    out: dict[str, Any] = {"UnprocessedItems": unprocessed}
    collections = await item_collections.per_table(req.runtime.backend, data, writes)
    if collections is not None:
        out["ItemCollectionMetrics"] = collections
    consumed = capacity.per_table(data, units, index_units=index_units)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


HANDLERS = {
    "BatchGetItem": batch_get_item,
    "BatchWriteItem": batch_write_item,
}
