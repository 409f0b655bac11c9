"""Attribute values as people type them.

Plain JSON is marshalled as the AWS SDK's DocumentClient marshals JavaScript
values: strings are S, numbers N, booleans BOOL, null NULL, arrays L and
objects M. Numbers keep the digits typed (DocumentClient would round past
2^53). Sets and binary have no plain-JSON form, so an item holding them is
edited as DynamoDB JSON only (plain_item() says so).
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any


class Number(str):
    """A JSON number, kept as the text it was written as."""


class NotPlain(ValueError):
    """The value holds a set or binary, which plain JSON cannot say."""


def parse_plain(text: str) -> Any:
    """Plain JSON with numbers kept as Number; ValueError when it is not JSON."""
    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number DynamoDB stores")
    return json.loads(text, parse_float=Number, parse_int=Number, parse_constant=constant)


def to_dynamo(value: Any) -> dict[str, Any]:
    """One plain value as a DynamoDB attribute value."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, Number):
        return {"N": str(value)}
    if isinstance(value, (int, float)):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, list):
        return {"L": [to_dynamo(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: to_dynamo(v) for k, v in value.items()}}
    raise TypeError(f"no DynamoDB type for {type(value).__name__}")


def to_dynamo_item(value: Any) -> Any:
    """A plain JSON object as an item; anything else is passed on for PutItem to refuse in its words."""
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items()}
    return value


def from_dynamo(value: dict[str, Any]) -> Any:
    (kind, inner), = value.items()
    if kind == "S":
        return inner
    if kind == "N":
        return Number(inner)
    if kind == "BOOL":
        return bool(inner)
    if kind == "NULL":
        return None
    if kind == "L":
        return [from_dynamo(v) for v in inner]
    if kind == "M":
        return {k: from_dynamo(v) for k, v in inner.items()}
    raise NotPlain(kind)


def plain_item(item: dict[str, Any]) -> dict[str, Any] | None:
    """The item as plain JSON values, or None if it holds sets or binary."""
    try:
        return {k: from_dynamo(v) for k, v in item.items()}
    except NotPlain:
        return None


def dump_plain(value: Any, indent: int = 2, level: int = 0) -> str:
    """Plain JSON text, numbers written with the digits stored."""
    pad, inner = " " * (indent * level), " " * (indent * (level + 1))
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [f"{inner}{json.dumps(k, ensure_ascii=False)}: {dump_plain(v, indent, level + 1)}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(parts) + "\n" + pad + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + dump_plain(v, indent, level + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value, ensure_ascii=False)


def typed(value: str, kind: str) -> dict[str, str]:
    """A key value typed into a form field, as an attribute value of the key's type."""
    if kind == "B":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{value!r} is not base64") from None
    return {kind: value}


def scalar_text(value: dict[str, Any]) -> str:
    """A key attribute value as text (S, N and base64 B are strings)."""
    return next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else ""


def parse_values(text: str) -> dict[str, Any]:
    """ExpressionAttributeValues typed as plain JSON ({":age": 30}) or as DynamoDB JSON
    ({":age": {"N": "30"}}); ValueError when it is neither."""
    if not text.strip():
        return {}
    parsed = parse_plain(text)
    if not isinstance(parsed, dict):
        raise ValueError("Values must be a JSON object such as {\":age\": 30}")
    if parsed and all(_is_attribute_value(v) for v in parsed.values()):
        return json.loads(text)
    return {k: to_dynamo(v) for k, v in parsed.items()}


_TYPES = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def _is_attribute_value(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPES
