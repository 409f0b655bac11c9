"""Secondary indexes: their key schemas, projections, and the entries a write
adds and removes, in the same transaction as the base item (so indexes here
are never stale, unlike DynamoDB's eventually consistent GSIs)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from storage.backends import Transaction
from storage.keycodec import PART_END, encode_key_value, escape_part

from . import capacity, errors, values
from .key_schemas import attribute_types, from_elements
from .keys import MAX_HASH_KEY_BYTES, MAX_RANGE_KEY_BYTES, KeySchema, check_size


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
    types = attribute_types(description)
    specs = []
    for kind, key in (("LSI", "LocalSecondaryIndexes"), ("GSI", "GlobalSecondaryIndexes")):
        for index in description.get(key, []):
            record = records.get(index["IndexName"])
            if record is None:
                continue
            schema = from_elements(index["KeySchema"], types)
            projection = index["Projection"]
            kept = set(schema.names) | set(table_schema.names) | set(projection.get("NonKeyAttributes", []))
            specs.append(IndexSpec(record.id, index["IndexName"], kind, schema,
                                   projection.get("ProjectionType", "ALL"), frozenset(kept),
                                   index.get("IndexStatus", record.status)))
    return specs


def check_index_keys(specs: list[IndexSpec], item: dict[str, Any]) -> None:
    """Index key attributes present in the item must have the index's type, not
    be empty and fit the key size limits. An index still being created
    (backfilled) refuses nothing: as in DynamoDB, an item violating its key
    schema is simply left out of it."""
    for spec in specs:
        if spec.status == "CREATING":
            continue
        for name, key_type, is_hash in spec.schema.parts():
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
            check_size(value[key_type], key_type, is_hash)


def _part(value: dict | None, key_type: str, limit: int) -> bytes | None:
    """One key attribute's encoding, or None when the item cannot be in the index
    by it: missing, of another type, empty, or over the key size limit (the
    index key violations DynamoDB's backfill skips; limit 0: no size checks)."""
    if value is None or key_type not in value:
        return None
    encoded = encode_key_value(value)
    if limit and key_type != "N" and not 0 < len(encoded) <= limit:
        return None
    return encoded


def index_key(spec: IndexSpec, item: dict[str, Any] | None, strict: bool = True) -> tuple[bytes, bytes] | None:
    """The item's (index hash, index range) in this index, or None when it is not in it (sparse).
    strict=False also keys an item whose values break the size rules (entries an
    older version may have written, so that they are still removed)."""
    if item is None:
        return None
    schema = spec.schema
    hash_limit, range_limit = (MAX_HASH_KEY_BYTES, MAX_RANGE_KEY_BYTES) if strict else (0, 0)
    if not schema.composite:  # today's encoding: the plain value bytes
        hash_bytes = _part(item.get(schema.hash_name), schema.hash_type, hash_limit)
        if hash_bytes is None:
            return None
        range_bytes = b""
        if schema.range_name is not None:
            found = _part(item.get(schema.range_name), schema.range_type or "", range_limit)
            if found is None:
                return None
            range_bytes = found
        return hash_bytes, range_bytes
    encoded: list[bytes] = []
    for parts, limit in ((schema.hash_parts, hash_limit), (schema.range_parts, range_limit)):
        out = b""
        for name, key_type in parts:
            found = _part(item.get(name), key_type, limit)
            if found is None:
                return None  # an item missing any key attribute is not in the index
            out += escape_part(found) + PART_END
        encoded.append(out)
    return encoded[0], encoded[1]


def key_violation(spec: IndexSpec, item: dict[str, Any]) -> bool:
    """Whether the item has every key attribute of the index yet is left out of
    it: a type, empty value or size that breaks the index's key schema (what
    DynamoDB's backfill skips, and its documentation calls an index key violation)."""
    return all(name in item for name in spec.schema.names) and index_key(spec, item) is None


def project(spec: IndexSpec, item: dict[str, Any]) -> dict[str, Any]:
    if spec.projection_type == "ALL":
        return item
    return {name: value for name, value in item.items() if name in spec.projected}


def write_costs(specs: list[IndexSpec], old: dict[str, Any] | None, new: dict[str, Any] | None,
                transactional: bool = False) -> list[tuple[IndexSpec, float]]:
    """Write units each index spends on a base item going from `old` to `new`,
    by DynamoDB's rules: an entry removed and one written cost one write each (a
    changed index key both), sized by the projected entry; an index whose entry
    does not change costs nothing and is left out. The same decisions as maintain()."""
    out: list[tuple[IndexSpec, float]] = []
    for spec in specs:
        if not spec.writable:
            continue
        old_key, new_key = index_key(spec, old, strict=False), index_key(spec, new)
        units = 0.0
        if old_key is not None and old_key != new_key:
            assert old is not None
            units += capacity.write_units(values.item_size(project(spec, old)), transactional)
        if new_key is not None:
            assert new is not None
            entry = project(spec, new)
            if not (old_key == new_key and old is not None and project(spec, old) == entry):
                units += capacity.write_units(values.item_size(entry), transactional)
        if units:
            out.append((spec, units))
    return out


async def maintain(txn: Transaction, specs: list[IndexSpec], pk: bytes, sk: bytes,
                   old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    """Bring every index in line with a base item going from `old` to `new`."""
    for spec in specs:
        if not spec.writable:
            continue
        old_key, new_key = index_key(spec, old, strict=False), index_key(spec, new)
        if old_key is not None and old_key != new_key:
            await txn.delete_index_entry(spec.id, old_key[0], old_key[1], pk, sk)
        if new_key is not None:
            assert new is not None
            entry = project(spec, new)
            if old_key == new_key and old is not None and project(spec, old) == entry:
                continue  # nothing this index shows has changed
            await txn.put_index_entry(spec.id, new_key[0], new_key[1], pk, sk,
                                      orjson.dumps(entry), values.item_size(entry))
