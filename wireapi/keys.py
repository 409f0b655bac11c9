"""Primary keys checked against a table's key schema, encoded for storage."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from storage.keycodec import encode_key_value
from wireapi.errors import InvalidKey, key_schema_mismatch

MAX_HASH_KEY_BYTES = 2048
MAX_RANGE_KEY_BYTES = 1024


@dataclass(frozen=True)
class KeySchema:
    """A table's or an index's key: one HASH and at most one RANGE attribute,
    except a global secondary index's, which may have up to four of each
    (multi-attribute keys): `more_hash` and `more_range` hold the second to
    fourth, in KeySchema order."""
    hash_name: str
    hash_type: str
    range_name: str | None = None
    range_type: str | None = None
    more_hash: tuple[tuple[str, str], ...] = ()
    more_range: tuple[tuple[str, str], ...] = ()

    @property
    def composite(self) -> bool:
        """Whether a part of the key has more than one attribute (its encoding
        is then storage.keycodec.encode_composite)."""
        return bool(self.more_hash or self.more_range)

    @property
    def hash_parts(self) -> tuple[tuple[str, str], ...]:
        return ((self.hash_name, self.hash_type),) + self.more_hash

    @property
    def range_parts(self) -> tuple[tuple[str, str], ...]:
        if self.range_name is None or self.range_type is None:
            return ()
        return ((self.range_name, self.range_type),) + self.more_range

    @property
    def names(self) -> tuple[str, ...]:
        if not self.composite:
            return (self.hash_name,) if self.range_name is None else (self.hash_name, self.range_name)
        return tuple(name for name, _ in self.hash_parts + self.range_parts)

    def parts(self) -> list[tuple[str, str, bool]]:
        """(name, type, is_hash) in schema order."""
        out = [(self.hash_name, self.hash_type, True)]
        out += [(name, key_type, True) for name, key_type in self.more_hash]
        out += [(name, key_type, False) for name, key_type in self.range_parts]
        return out


def _raw_len(value: str, key_type: str) -> int:
    return len(base64.b64decode(value)) if key_type == "B" else len(value.encode("utf-8"))


def check_size(value: str, key_type: str, is_hash: bool) -> None:
    if key_type == "N":  # numbers are bounded by their 38 digits
        return
    size = _raw_len(value, key_type)
    if is_hash and size > MAX_HASH_KEY_BYTES:
        raise InvalidKey(
            "One or more parameter values were invalid: "
            "Size of hashkey has exceeded the maximum size limit of2048 bytes"
        )
    if not is_hash and size > MAX_RANGE_KEY_BYTES:
        raise InvalidKey(
            "One or more parameter values were invalid: "
            "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
        )


def _empty_kind(value: object, key_type: str) -> str | None:
    if value == "" and key_type in ("S", "B"):
        return "string" if key_type == "S" else "binary"
    return None


def _encode(schema: KeySchema, values: dict) -> tuple[bytes, bytes]:
    pk = encode_key_value(values[schema.hash_name])
    sk = encode_key_value(values[schema.range_name]) if schema.range_name else b""
    return pk, sk


def key_from_item(schema: KeySchema, item: dict) -> tuple[bytes, bytes]:
    """PutItem's Item: each key attribute present, typed, non-empty, small enough."""
    for name, key_type, is_hash in schema.parts():
        av = item.get(name)
        if av is None:
            raise InvalidKey(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        if key_type not in av:
            actual = next(iter(av), None)
            raise InvalidKey(
                "One or more parameter values were invalid: "
                f"Type mismatch for key {name} expected: {key_type} actual: {actual}"
            )
        kind = _empty_kind(av[key_type], key_type)
        if kind:
            raise InvalidKey(
                "One or more parameter values are not valid. The AttributeValue for a key "
                f"attribute cannot contain an empty {kind} value. Key: {name}"
            )
        check_size(av[key_type], key_type, is_hash)
    return _encode(schema, item)


def key_from_key_param(schema: KeySchema, key: dict) -> tuple[bytes, bytes]:
    """A Key parameter: exactly the schema's attributes, right types."""
    parts = schema.parts()
    if len(key) != len(parts):
        raise key_schema_mismatch()
    for name, key_type, is_hash in parts:
        av = key.get(name)
        if av is None or key_type not in av:
            raise key_schema_mismatch()
        kind = _empty_kind(av[key_type], key_type)
        if kind:
            raise InvalidKey(
                "One or more parameter values were invalid: The AttributeValue for a key "
                f"attribute cannot contain an empty {kind} value. Key: {name}"
            )
        check_size(av[key_type], key_type, is_hash)
    return _encode(schema, key)


def key_attributes(schema: KeySchema, item: dict) -> dict:
    """The key attributes of a stored item (e.g. for LastEvaluatedKey)."""
    return {name: item[name] for name in schema.names if name in item}
