"""Request shape validation, compiled from botocore's service model.

Two passes, as DynamoDB's Coral framework does:
1. a type pass that converts the JSON to the model's types or answers
   SerializationException with Coral's deserialiser text (first error only);
   unknown members are dropped, "true"/"1"/"yes" become booleans;
2. a constraint pass (required, lengths, ranges, patterns, enums) that lists up
   to ten problems in one ValidationException.
Semantic checks (expressions, key schemas, item contents) belong to the
operation handlers, after this.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.loaders import Loader

from . import errors
from .shape_order import ENUM_ORDER, MEMBER_ORDER

_JAVA = {"string": "String", "integer": "Integer", "long": "Long", "double": "Double",
         "float": "Double", "timestamp": "Double", "boolean": "Boolean"}
_NUMBERS = ("integer", "long", "double", "float", "timestamp")
MAX_ERRORS = 10
# Operations whose TableName Coral checks with its own message first.
_TABLE_NAME_FIRST = frozenset({"CreateTable", "DeleteTable", "DescribeTable", "DescribeTimeToLive", "UpdateTable"})


@dataclass(eq=False)
class Shape:
    name: str
    kind: str
    members: list[tuple[str, Shape]] = field(default_factory=list)
    by_name: dict[str, Shape] = field(default_factory=dict)
    # (member name, lowerCamel name for messages, shape, required) in Coral's order
    checks: list[tuple[str, str, Shape, bool]] = field(default_factory=list)
    required: frozenset[str] = frozenset()
    member: Shape | None = None  # list element / map value
    key: Shape | None = None  # map key
    min: int | float | None = None
    max: int | float | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str = ""
    enum: tuple[str, ...] = ()


def _compile(model: dict[str, Any]) -> dict[str, Shape]:
    defs = model["shapes"]
    shapes: dict[str, Shape] = {}

    def build(name: str) -> Shape:
        if name in shapes:
            return shapes[name]
        spec = defs[name]
        shape = Shape(name, spec["type"])
        shapes[name] = shape  # before recursing: AttributeValue contains itself
        shape.min, shape.max = spec.get("min"), spec.get("max")
        if "pattern" in spec:
            shape.pattern_text = spec["pattern"]
            try:
                shape.pattern = re.compile(spec["pattern"])
            except re.error:
                pass  # Java-only syntax (surrogate ranges) in a few ARN patterns: not checked
        if "enum" in spec:
            shape.enum = tuple(spec["enum"])
        if shape.kind == "structure":
            members = spec.get("members", {})
            order = MEMBER_ORDER.get(name, ())
            names = [m for m in order if m in members] + [m for m in members if m not in order]
            shape.members = [(m, build(members[m]["shape"])) for m in names]
            shape.required = frozenset(spec.get("required", ()))
        elif shape.kind == "list":
            shape.member = build(spec["member"]["shape"])
        elif shape.kind == "map":
            shape.key = build(spec["key"]["shape"])
            shape.member = build(spec["value"]["shape"])
        return shape

    for op in model["operations"].values():
        if "input" in op:
            build(op["input"]["shape"])
    return shapes


def _finish(shapes: dict[str, Shape]) -> None:
    for shape in shapes.values():
        shape.by_name = dict(shape.members)
        shape.checks = [(name, _lower_first(name), member, name in shape.required)
                        for name, member in shape.members]


@cache
def _service(service: str) -> tuple[dict[str, Shape], dict[str, str]]:
    model = Loader().load_service_model(service, "service-2")
    shapes = _compile(model)
    inputs = {name: op["input"]["shape"] for name, op in model["operations"].items() if "input" in op}
    for name in model["operations"]:
        inputs.setdefault(name, "")
    # Reorder top-level members as Coral checks them (keyed by operation name).
    for op_name, shape_name in inputs.items():
        if shape_name and op_name in MEMBER_ORDER:
            shape = shapes[shape_name]
            order = MEMBER_ORDER[op_name]
            by_name = dict(shape.members)
            shape.members = ([(m, by_name[m]) for m in order if m in by_name]
                             + [(m, s) for m, s in shape.members if m not in order])
    _finish(shapes)
    return shapes, inputs


@cache  # asked on every request
def operation_names(service: str) -> frozenset[str]:
    return frozenset(_service(service)[1])


# --- pass 1: types --------------------------------------------------------------

def _type_error(msg: str) -> errors.SerializationException:
    return errors.serialization_error(msg)


def _number_text(value: Any) -> str:
    return "NUMBER_VALUE" if isinstance(value, int) or float(value).is_integer() else "DECIMAL_VALUE"


def _java_collection(shape: Shape) -> str:
    if shape.kind == "blob":
        return "class java.nio.ByteBuffer"
    if shape.kind == "structure":
        return f"class com.amazonaws.dynamodb.v20120810.{shape.name}"
    return f"class java.lang.{_JAVA.get(shape.kind, 'String')}"


# Shape levels a request may nest: an attribute value 32 maps deep inside
# TransactItems is ~75. Deeper JSON (orjson reads up to 1024) is refused here
# with DynamoDB's nesting error rather than recursed into.
_MAX_SHAPE_DEPTH = 100


_ITEM_MAPS = frozenset({"PutItemInputAttributeMap", "Key", "AttributeMap"})
# A list or map more than this many times its maximum length (BatchGetItem's 100
# keys, TransactItems' 100...) is refused for its length alone: its members are
# neither converted nor checked, and the error quotes only the first ones (ours:
# DynamoDB quotes the whole value; a 16 MB list of keys took seconds to convert).
_ABSURD = 4


def _bound_map(shape_name: str, value: dict) -> None:
    """A map too large for what it is, refused before each entry is converted: an
    item whose names alone pass 400 KB, more placeholders than 2 MB holds (each
    name takes 3 bytes at least, each value 2). Later passes make the same
    checks (values.validate_item, ExpressionAttributes); these only come first."""
    if shape_name in _ITEM_MAPS:
        names = "".join(value)
        if (len(names) if names.isascii() else len(names.encode("utf-8", "surrogatepass"))) > 409600:
            raise errors.ValidationException("Item size has exceeded the maximum allowed size")
    elif shape_name in ("ExpressionAttributeValueMap", "ExpressionAttributeNameMap"):
        size = len("".join(value))  # the placeholders alone (keys are strings: JSON)
        if shape_name == "ExpressionAttributeNameMap":
            size += sum(len(name) for name in value.values() if type(name) is str)
        if size > errors.MAX_SUBSTITUTION_BYTES:
            raise errors.ValidationException(errors.SUBSTITUTIONS_TOO_LARGE)


def _convert(value: Any, shape: Shape, in_collection: bool, depth: int = 0) -> Any:
    kind = shape.kind
    if depth > _MAX_SHAPE_DEPTH and kind in ("structure", "list", "map"):
        raise errors.ValidationException(errors.NESTING_TOO_DEEP)
    if kind == "structure":
        if isinstance(value, dict):
            members = shape.by_name
            if len(value) == 1:
                # Most attribute values: {"S": "…"} or {"N": "…"}, which convert to themselves.
                for name, child in value.items():
                    member = members.get(name)
                    if member is not None and member.kind == "string" and type(child) is str:
                        return value
            out = {}
            for name, child in value.items():
                member = members.get(name)
                if member is not None and child is not None:  # unknown members are dropped
                    out[name] = _convert(child, member, False, depth + 1)
            return out
        if isinstance(value, list):
            raise _type_error(f"Unrecognized collection type {_java_collection(shape)}")
        raise _type_error("Unexpected value type in payload" if in_collection else "Unexpected field type")
    if kind == "list":
        if isinstance(value, list):
            assert shape.member is not None
            if shape.max is not None and len(value) > _ABSURD * shape.max:
                return value  # refused by _check for its length; its members are not looked at
            return [_convert(v, shape.member, True, depth + 1) for v in value]
        if isinstance(value, dict):
            raise _type_error("Start of structure or map found where not expected")
        raise _type_error("Unexpected field type")
    if kind == "map":
        if isinstance(value, dict):
            assert shape.member is not None
            if len(value) > 1024:
                _bound_map(shape.name, value)
            if shape.max is not None and len(value) > _ABSURD * shape.max:
                return value  # as a list above
            return {k: _convert(v, shape.member, True, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            inner = ("java.lang.String" if shape.member is not None and shape.member.kind == "string"
                     else f"com.amazonaws.dynamodb.v20120810.{shape.member.name if shape.member else ''}")
            raise _type_error(f"Unrecognized collection type java.util.Map<java.lang.String, {inner}>")
        raise _type_error("Unexpected field type")
    # Scalars: collections and objects first.
    if isinstance(value, list):
        raise _type_error(f"Unrecognized collection type {_java_collection(shape)}")
    if isinstance(value, dict):
        raise _type_error("Start of structure or map found where not expected")
    if value is None:
        # A JSON null member of a list or map (`{"BS": [null]}`): passed on, as Coral does, for the
        # value's own validation to refuse (found by hypothesis over HTTPS: a 500 from len(None)).
        return None
    java = _JAVA.get(kind, "String")
    if kind == "string":
        if isinstance(value, bool):
            raise _type_error(f"{'TRUE_VALUE' if value else 'FALSE_VALUE'} cannot be converted to String")
        if isinstance(value, (int, float)):
            raise _type_error(f"{_number_text(value)} cannot be converted to String")
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            raise _type_error(f"{_number_text(value)} cannot be converted to Boolean")
        upper = value.upper()
        if upper in ("TRUE", "1", "YES"):
            return True
        if upper in ("FALSE", "0", "NO"):
            return False
        raise _type_error("Unexpected token received from parser")
    if kind in _NUMBERS:
        if isinstance(value, bool):
            raise _type_error(f"{'TRUE_VALUE' if value else 'FALSE_VALUE'} cannot be converted to {java}")
        if isinstance(value, str):
            raise _type_error(f"STRING_VALUE cannot be converted to {java}")
        if kind in ("integer", "long") and isinstance(value, float):
            return math.floor(value)
        return value
    if kind == "blob":
        if isinstance(value, (bool, int, float)):
            raise _type_error("only base-64-encoded strings are convertible to bytes")
        if len(value) % 4:
            raise _type_error(f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(value)}")
        try:
            if base64.b64encode(base64.b64decode(value, validate=True)).decode() != value:
                raise ValueError
        except (binascii.Error, ValueError):
            raise _type_error("Invalid last non-pad Base64 character dectected") from None
        return value
    return value


# --- pass 2: constraints ----------------------------------------------------------

def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = "[" + ", ".join(_render_bare(v) for v in value) + "]"
    elif isinstance(value, dict):
        # Coral prints a Java map. Its values are Java objects whose toString DynamoDB
        # does not publish: here they print as maps too (not DynamoDB's text).
        text = "{" + ", ".join(f"{k}={_render_bare(v)}" for k, v in value.items()) + "}"
    else:
        text = str(value)
    return f"'{text}'"


def _render_bare(value: Any) -> str:
    rendered = _render(value)
    return rendered[1:-1] if rendered.startswith("'") else rendered


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _length(value: Any) -> int:
    return len(value)


# A table name that is not an ARN is held to the classic name rules (botocore's
# TableArn shape only bounds the length, since ARNs are accepted too).
_TABLE_NAME = Shape("TableName", "string", min=3, max=255, pattern=re.compile("[a-zA-Z0-9_.-]+"),
                    pattern_text="[a-zA-Z0-9_.-]+")


def _fail(out: list[str], value: Any, path: str, message: str) -> None:
    if len(out) < MAX_ERRORS:
        out.append(f"Value {_render(value)} at '{path}' failed to satisfy constraint: {message}")


def _constraint_texts(shape: Shape) -> list[str]:
    """A string's or list's constraints as Coral lists them for map keys and values."""
    texts = []
    if shape.max is not None:
        texts.append(f"Member must have length less than or equal to {shape.max}")
    if shape.min is not None:
        texts.append(f"Member must have length greater than or equal to {shape.min}")
    if shape.pattern is not None:
        texts.append(f"Member must satisfy regular expression pattern: {shape.pattern_text}")
    return texts


def _violates(value: Any, shape: Shape) -> bool:
    if shape.min is not None and _length(value) < shape.min:
        return True
    if shape.max is not None and _length(value) > shape.max:
        return True
    return shape.pattern is not None and isinstance(value, str) and not shape.pattern.fullmatch(value)


def _check_map_entries(value: dict, shape: Shape, path: str, out: list[str]) -> None:
    """Coral checks a map's keys, and its values' own lengths, once per map:
    "Map keys must satisfy constraint: [...]" (a table name that is not an ARN
    is held to the table name rules, as elsewhere)."""
    key_shape = shape.key
    if key_shape is not None and key_shape.kind == "string":
        for key in value:
            rules = _TABLE_NAME if key_shape.name == "TableArn" and not key.startswith("arn:") else key_shape
            if _violates(key, rules):
                _fail(out, value, path, f"Map keys must satisfy constraint: [{', '.join(_constraint_texts(rules))}]")
                break
    member = shape.member
    if member is not None and member.kind in ("list", "string") and (member.min is not None or member.max is not None):
        if any(_violates(v, member) for v in value.values() if v is not None):
            _fail(out, value, path, f"Map value must satisfy constraint: [{', '.join(_constraint_texts(member))}]")


def _check(value: Any, shape: Shape, path: str, required: bool, out: list[str], name: str = "",
           map_value: bool = False) -> None:
    if value is None:
        if required:
            _fail(out, value, path, "Member must not be null")
        return
    kind = shape.kind
    if shape.name == "TableArn" and not value.startswith("arn:"):
        shape = _TABLE_NAME
    if kind == "string":
        if shape.pattern is not None and not shape.pattern.fullmatch(value):
            _fail(out, value, path, f"Member must satisfy regular expression pattern: {shape.pattern_text}")
        if shape.min is not None and len(value) < shape.min:
            _fail(out, value, path, f"Member must have length greater than or equal to {shape.min}")
        if shape.max is not None and len(value) > shape.max:
            _fail(out, value, path, f"Member must have length less than or equal to {shape.max}")
        if shape.enum and value not in shape.enum:
            listed = ENUM_ORDER.get(name, shape.enum)
            _fail(out, value, path, f"Member must satisfy enum value set: [{', '.join(listed)}]")
    elif kind in _NUMBERS:
        if shape.min is not None and value < shape.min:
            _fail(out, value, path, f"Member must have value greater than or equal to {shape.min}")
        if shape.max is not None and value > shape.max:
            _fail(out, value, path, f"Member must have value less than or equal to {shape.max}")
    elif kind in ("list", "map"):
        if not map_value:  # a map's values' lengths: _check_map_entries
            if shape.min is not None and _length(value) < shape.min:
                _fail(out, value, path, f"Member must have length greater than or equal to {shape.min}")
            if shape.max is not None and _length(value) > shape.max:
                absurd = len(value) > _ABSURD * shape.max
                shown = (value[:_ABSURD * shape.max] if isinstance(value, list)
                         else dict(list(value.items())[:_ABSURD * shape.max])) if absurd else value
                _fail(out, shown, path, f"Member must have length less than or equal to {shape.max}")
                if absurd:
                    return
        if kind == "map":
            _check_map_entries(value, shape, path, out)
        member = shape.member
        assert member is not None
        # Attribute values are checked by wireapi.values: no need to visit them (an item's every attribute).
        if kind == "map" and member.kind == "string":
            return  # the values' lengths are checked above
        if (member.kind in ("list", "map", "string") or member.min is not None
                or (member.kind == "structure" and member.name != "AttributeValue")):
            items = enumerate(value, 1) if kind == "list" else value.items()
            for index, child in items:
                if len(out) >= MAX_ERRORS:
                    return
                _check(child, member, f"{path}.{index}.member", False, out, name, map_value=kind == "map")
    elif kind == "structure":
        if shape.name == "AttributeValue":
            return  # attribute values are checked by wireapi.values
        for member_name, lower, member, required_member in shape.checks:
            if len(out) >= MAX_ERRORS:
                return
            child = value.get(member_name)
            if child is None and not required_member:
                continue
            _check(child, member, f"{path}.{lower}" if path else lower, required_member, out, member_name)


def validate_request(service: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """Validate `body` in place of DynamoDB's Coral layer; return the converted body."""
    shapes, inputs = _service(service)
    shape_name = inputs.get(operation)
    if not shape_name:
        return body
    shape = shapes[shape_name]
    converted = _convert(body, shape, False)
    if operation in _TABLE_NAME_FIRST:
        name = converted.get("TableName")
        if name is None:
            raise errors.ValidationException(
                "The parameter 'TableName' is required but was not present in the request")
        if not 3 <= len(name) <= 255:
            raise errors.ValidationException(
                "TableName must be at least 3 characters long and at most 255 characters long")
    problems: list[str] = []
    _check(converted, shape, "", True, problems)
    if problems:
        raise errors.validation_errors(problems)
    if converted is not body:  # a body that needed no conversion is returned as is
        body.clear()
        body.update(converted)
    return body
