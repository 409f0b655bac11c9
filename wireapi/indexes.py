"""Secondary indexes: their key schemas, projections, and the entries a write
adds and removes, in the same transaction as the base item (so indexes here
are never stale, unlike DynamoDB's eventually consistent GSIs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from storage.backends import Transaction
from storage.keycodec import encode_key_value

from . import errors, values
from .keys import KeySchema


@dataclass(frozen=True)
class IndexSpec:
    id: int
    name: str
    kind: str  # "GSI" or "LSI"
    schema: KeySchema
    projection_type: str  # ALL, KEYS_ONLY, INCLUDE
    projected: frozenset[str]  # attributes kept when the projection is not ALL
    status: str

    @property
    def writable(self) -> bool:
        return self.status in ("ACTIVE", "CREATING")


def build_specs(description: dict[str, Any], table_schema: KeySchema,
                records: dict[str, Any]) -> list[IndexSpec]:
    """IndexSpecs from a table description and the backend's index records by name."""
    types = {d["AttributeName"]: d["AttributeType"] for d in description["AttributeDefinitions"]}
    specs = []
    for kind, key in (("LSI", "LocalSecondaryIndexes"), ("GSI", "GlobalSecondaryIndexes")):
        for index in description.get(key, []):
            record = records.get(index["IndexName"])
            if record is None:
                continue
            hash_name = range_name = None
            for element in index["KeySchema"]:
                if element["KeyType"] == "HASH":
                    hash_name = element["AttributeName"]
                else:
                    range_name = element["AttributeName"]
            schema = KeySchema(hash_name, types[hash_name], range_name,
                               types[range_name] if range_name else None)
            projection = index["Projection"]
            kept = set(schema.names) | set(table_schema.names) | set(projection.get("NonKeyAttributes", []))
            specs.append(IndexSpec(record.id, index["IndexName"], kind, schema,
                                   projection.get("ProjectionType", "ALL"), frozenset(kept),
                                   index.get("IndexStatus", record.status)))
    return specs


def check_index_keys(specs: list[IndexSpec], item: dict[str, Any]) -> None:
    """Index key attributes present in the item must have the index's type and not be empty."""
    for spec in specs:
        for name, key_type, _ in spec.schema.parts():
            value = item.get(name)
            if value is None:
                continue
            actual = next(iter(value))
            if actual != key_type:
                raise errors.ValidationException(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{name} Expected: {key_type} Actual: {actual} IndexName: {spec.name}")
            if key_type in ("S", "B") and value[key_type] == "":
                raise errors.ValidationException(
                    "One or more parameter values are not valid. A value specified for a secondary index "
                    "key is not supported. The AttributeValue for a key attribute cannot contain an empty "
                    f"string value. IndexName: {spec.name}, IndexKey: {name}")


def index_key(spec: IndexSpec, item: dict[str, Any] | None) -> tuple[bytes, bytes] | None:
    """The item's (index hash, index range) in this index, or None when it is not in it (sparse)."""
    if item is None:
        return None
    hash_value = item.get(spec.schema.hash_name)
    if hash_value is None or spec.schema.hash_type not in hash_value:
        return None
    range_bytes = b""
    if spec.schema.range_name is not None:
        range_value = item.get(spec.schema.range_name)
        if range_value is None or spec.schema.range_type not in range_value:
            return None
        range_bytes = encode_key_value(range_value)
    return encode_key_value(hash_value), range_bytes


def project(spec: IndexSpec, item: dict[str, Any]) -> dict[str, Any]:
    if spec.projection_type == "ALL":
        return item
    return {name: value for name, value in item.items() if name in spec.projected}


async def maintain(txn: Transaction, specs: list[IndexSpec], pk: bytes, sk: bytes,
                   old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Bring every index in line with a base item going from `old` to `new`."""
    for spec in specs:
        if not spec.writable:
            continue
        old_key, new_key = index_key(spec, old), index_key(spec, new)
        if old_key is not None and old_key != new_key:
            await txn.delete_index_entry(spec.id, old_key[0], old_key[1], pk, sk)
        if new_key is not None:
            assert new is not None
            entry = project(spec, new)
            if old_key == new_key and old is not None and project(spec, old) == entry:
                continue  # nothing this index shows has changed
            await txn.put_index_entry(spec.id, new_key[0], new_key[1], pk, sk,
                                      orjson.dumps(entry), values.item_size(entry))
