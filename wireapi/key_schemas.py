"""KeySchema objects from stored table descriptions (tables, LSIs and GSIs,
including multi-attribute GSI keys). The checks that keep bad schemas out of
the descriptions live in wireapi.operations.table_schema."""
from __future__ import annotations

from typing import Any

from .keys import KeySchema


def attribute_types(description: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in description.get("AttributeDefinitions") or ()}


def from_elements(elements: list[dict[str, str]], types: dict[str, str]) -> KeySchema:
    """A validated KeySchema list (every HASH before every RANGE) and the
    attribute types it uses."""
    hashes = [(e["AttributeName"], types[e["AttributeName"]]) for e in elements if e["KeyType"] == "HASH"]
    ranges = [(e["AttributeName"], types[e["AttributeName"]]) for e in elements if e["KeyType"] != "HASH"]
    (hash_name, hash_type), more_hash = hashes[0], tuple(hashes[1:])
    if not ranges:
        return KeySchema(hash_name, hash_type, more_hash=more_hash)
    (range_name, range_type), more_range = ranges[0], tuple(ranges[1:])
    return KeySchema(hash_name, hash_type, range_name, range_type, more_hash, more_range)


def key_schema(description: dict[str, Any]) -> KeySchema:
    """The table's own key schema."""
    return from_elements(description["KeySchema"], attribute_types(description))
