"""BatchGetItem and BatchWriteItem."""
from __future__ import annotations

from typing import Any

import orjson

from .. import capacity, errors, expressions, indexes, item_collections, values
from ..dispatch import Request
from ..keys import key_from_key_param
from .items import (PreparedWrite, WritesFailed, prepare_delete, prepare_put, projection_for,
                    validate_key_values, write_many)
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
    wants_capacity = capacity.requested(data) is not None
    total_size = 0
    for table_name, spec, projection, keys in plans:
        table = await get_table(req, table_name)
        schema = table.extra["schema"]
        encoded = [key_from_key_param(schema, key) for key in keys]
        consistent = bool(spec.get("ConsistentRead"))
        found = await req.reader(consistent).get_items(table.id, encoded)
        items = responses.setdefault(table.name, [])
        units.setdefault(table.name, 0.0)
        for key, encoded_key in zip(keys, encoded):
            raw = found.get(encoded_key)
            if raw is None:
                units[table.name] += capacity.read_units(0, consistent)
                continue
            if total_size + len(raw) > MAX_RESPONSE_BYTES:
                rest = unprocessed.setdefault(table_name, {k: v for k, v in spec.items() if k != "Keys"})
                rest.setdefault("Keys", []).append(key)
                continue
            total_size += len(raw)
            if wants_capacity or projection is not None:
                item = orjson.loads(raw)
                if wants_capacity:
                    units[table.name] += capacity.read_units(values.item_size(item), consistent)
                if projection is not None:
                    raw = orjson.dumps(expressions.project(item, projection))
            items.append(raw)  # stored bodies are already the wire JSON: no parse, no re-encode
    out = b'{"Responses":{' + b",".join(
        orjson.dumps(name) + b":[" + b",".join(raws) + b"]" for name, raws in responses.items())
    out += b'},"UnprocessedKeys":' + orjson.dumps(unprocessed)
    consumed = capacity.per_table(data, units)
    if consumed is not None:
        out += b',"ConsumedCapacity":' + orjson.dumps(consumed)
    return out + b"}"


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
    try:
        outcomes = await write_many(req, writes)
    except WritesFailed as failed:
        raise next(f[0] for f in failed.failures if f is not None) from None
    units: dict[str, float] = {}
    index_units: dict[str, list[tuple[Any, float]]] = {}
    for write, outcome in zip(writes, outcomes):
        size = max(values.item_size(outcome.new) if outcome.new else 0,
                   values.item_size(outcome.old) if outcome.old else 0)
        units[write.table.name] = units.get(write.table.name, 0.0) + capacity.write_units(size)
        index_units.setdefault(write.table.name, []).extend(
            indexes.write_costs(write.table.extra["indexes"], outcome.old, outcome.new))
    out: dict[str, Any] = {"UnprocessedItems": {}}
    metrics = await item_collections.per_table(req.runtime.backend, data, writes)
    if metrics is not None:
        out["ItemCollectionMetrics"] = metrics
    consumed = capacity.per_table(data, units, index_units=index_units)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


HANDLERS = {
    "BatchGetItem": batch_get_item,
    "BatchWriteItem": batch_write_item,
}
