"""Attribute values: validation, number canonicalisation, equality, ordering, size.

A value is the wire JSON dict as parsed by orjson ({"S": "x"}, {"N": "1.5"}, ...).
Binary stays base64 text. DynamoDB validates a request in two passes: the
Coral deserialiser first (wrong JSON types -> SerializationException), then the
service's own checks (-> ValidationException). `check_value_shape` is the first
pass, `validate_value` runs both in that order.
"""
from __future__ import annotations

import base64
import binascii
import re
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from wireapi.errors import (
    ATTRIBUTE_NAME_TOO_LONG, MAX_ATTRIBUTE_NAME_BYTES, MAX_NESTING_LEVELS, NESTING_TOO_DEEP, ValidationException,
    serialization_error,
)

TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")
MAX_ITEM_SIZE = 409600

_AV_CLASS = "com.amazonaws.dynamodb.v20120810.AttributeValue"
_START_OF_STRUCT = "Start of structure or map found where not expected"
# Java BigDecimal accepts a leading '+', so DynamoDB does too (dynalite/Big.js does not).
_NUMBER_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

EMPTY_VALUE = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
MULTIPLE_TYPES = (
    "Supplied AttributeValue has more than one datatypes set, "
    "must contain exactly one of the supported datatypes"
)
NUMBER_OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
NUMBER_UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
TOO_MANY_DIGITS = "Attempting to store more than 38 significant digits in a Number"
ITEM_TOO_LARGE = "Item size has exceeded the maximum allowed size"
# Not confirmed against DynamoDB: the text for an empty attribute name.
EMPTY_ATTRIBUTE_NAME = "One or more parameter values were invalid: An attribute name cannot be empty"
# Not confirmed against DynamoDB (dynalite's texts): a JSON null inside a set.
NULL_STRING_SET_MEMBER = "One or more parameter values were invalid: An string set may not have a null value as a member"
NULL_BINARY_SET_MEMBER = "One or more parameter values were invalid: Binary sets may not contain null or empty values"


# --- pass 1: JSON shape (SerializationException) ------------------------------

_serial = serialization_error


def _java_kind(val: Any) -> str:
    return "DECIMAL_VALUE" if isinstance(val, float) and val % 1 else "NUMBER_VALUE"


def _check_string(val: Any) -> str:
    if isinstance(val, str):
        return val
    if isinstance(val, bool):
        raise _serial(("TRUE_VALUE" if val else "FALSE_VALUE") + " cannot be converted to String")
    if isinstance(val, (int, float)):
        raise _serial(_java_kind(val) + " cannot be converted to String")
    if isinstance(val, list):
        raise _serial("Unrecognized collection type class java.lang.String")
    raise _serial(_START_OF_STRUCT)


def _check_blob(val: Any) -> str:
    if isinstance(val, (bool, int, float)):
        raise _serial("only base-64-encoded strings are convertible to bytes")
    if isinstance(val, list):
        raise _serial("Unrecognized collection type class java.nio.ByteBuffer")
    if isinstance(val, dict):
        raise _serial(_START_OF_STRUCT)
    if len(val) % 4:
        raise _serial(f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(val)}")
    try:
        canonical = base64.b64encode(base64.b64decode(val)).decode("ascii")
    except (binascii.Error, ValueError):
        canonical = None
    if canonical != val:
        raise _serial("Invalid last non-pad Base64 character dectected")
    return val


def _check_boolean(val: Any) -> bool:
    if isinstance(val, bool):
        return val
    if isinstance(val, (int, float)):
        raise _serial(_java_kind(val) + " cannot be converted to Boolean")
    if isinstance(val, str):
        # Coral's Jackson coerces these spellings.
        upper = val.upper()
        if upper in ("TRUE", "1", "YES"):
            return True
        if upper in ("FALSE", "0", "NO"):
            return False
        raise _serial("Unexpected token received from parser")
    if isinstance(val, list):
        raise _serial("Unrecognized collection type class java.lang.Boolean")
    raise _serial(_START_OF_STRUCT)


def _check_list(val: Any) -> list:
    if isinstance(val, (bool, int, float, str)):
        raise _serial("Unexpected field type")
    if not isinstance(val, list):
        raise _serial(_START_OF_STRUCT)
    return val


# Each element of a list, map or set adds at least a byte to an item's size
# (a string set holds one "" at most), so a container of more elements is over
# 400 KB whatever it holds: refused before a pass over its elements.
_MAX_ELEMENTS = MAX_ITEM_SIZE + 1


def check_value_shape(av: Any, depth: int = 0) -> dict:
    """Coral's type pass over one value: unknown and null members are dropped,
    boolean spellings coerced; wrong JSON types raise SerializationException.
    `depth`: the maps and lists around it; past 32 the value is refused here,
    so nothing after this pass recurses deeper than that."""
    if depth > MAX_NESTING_LEVELS:
        raise ValidationException(NESTING_TOO_DEEP)
    if av is None:
        return {}
    if isinstance(av, (bool, int, float, str)):
        raise _serial("Unexpected value type in payload")
    if isinstance(av, list):
        raise _serial("Unrecognized collection type class " + _AV_CLASS)
    out: dict = {}
    for key, val in av.items():
        if key not in TYPES or val is None:
            continue
        if isinstance(val, (list, dict)) and len(val) > _MAX_ELEMENTS:
            raise ValidationException(ITEM_TOO_LARGE)
        if key in ("S", "N"):
            out[key] = _check_string(val)
        elif key == "B":
            out[key] = _check_blob(val)
        elif key in ("BOOL", "NULL"):
            out[key] = _check_boolean(val)
        elif key in ("SS", "NS"):
            out[key] = [None if v is None else _check_string(v) for v in _check_list(val)]
        elif key == "BS":
            out[key] = [None if v is None else _check_blob(v) for v in _check_list(val)]
        elif key == "L":
            out[key] = [check_value_shape(v, depth + 1) for v in _check_list(val)]
        else:  # M
            if isinstance(val, (bool, int, float, str)):
                raise _serial("Unexpected field type")
            if isinstance(val, list):
                raise _serial(
                    "Unrecognized collection type java.util.Map<java.lang.String, " + _AV_CLASS + ">"
                )
            out[key] = {k: check_value_shape(v, depth + 1) for k, v in val.items()}
    return out


# --- numbers ------------------------------------------------------------------

def _parse_number(text: str) -> Decimal:
    """Parse and range-check a request number; messages as DynamoDB's."""
    if not text:
        raise ValidationException("The parameter cannot be converted to a numeric value")
    if not _NUMBER_RE.fullmatch(text):
        raise ValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    try:
        num = Decimal(text)
    except InvalidOperation:  # found by fuzzing: an exponent past what decimal holds (~1E18)
        mantissa, _, exponent = text.lower().partition("e")
        if not mantissa.strip("+-.0"):
            return Decimal(0)
        raise ValidationException(NUMBER_UNDERFLOW if exponent.startswith("-") else NUMBER_OVERFLOW) from None
    _check_range(num)
    return num


def _significant(num: Decimal) -> tuple[int, str, int]:
    """(sign, digits without leading/trailing zeros, exponent of last digit)."""
    sign, digits, exp = num.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return 0, "0", 0
    stripped = text.rstrip("0")
    return sign, stripped, int(exp) + len(text) - len(stripped)


def _check_range(num: Decimal) -> None:
    if not num:
        return
    _, digits, exp = _significant(num)
    adjusted = exp + len(digits) - 1  # exponent of the leading digit
    if adjusted > 125:
        raise ValidationException(NUMBER_OVERFLOW)
    if adjusted < -130:
        raise ValidationException(NUMBER_UNDERFLOW)
    if len(digits) > 38:
        raise ValidationException(TOO_MANY_DIGITS)


def _format(num: Decimal) -> str:
    sign, digits, exp = _significant(num)
    if digits == "0":
        return "0"
    return format(Decimal((sign, tuple(int(d) for d in digits), exp)), "f")


def normalize_number(text: str) -> str:
    """DynamoDB's canonical form: plain decimal, no exponent, no redundant zeros."""
    return _format(Decimal(text))


def to_decimal(text: str) -> Decimal:
    return Decimal(text)


def _arith(a: str, b: str, negate: bool) -> str:
    with localcontext() as ctx:
        ctx.prec = 400  # exact for any pair of in-range 38-digit numbers
        da, db = Decimal(a), Decimal(b)
        result = da - db if negate else da + db
    _check_range(result)
    return _format(result)


def add_numbers(a: str, b: str) -> str:
    return _arith(a, b, negate=False)


def subtract_numbers(a: str, b: str) -> str:
    return _arith(a, b, negate=True)


# --- pass 2: DynamoDB's value checks (ValidationException) -------------------

def _value_str(val: Any) -> str:
    if val is None:
        return "null"
    if isinstance(val, list):
        return "[" + ", ".join(_value_str(v) for v in val) + "]"
    return str(val)


def _has_duplicate(values: list) -> bool:
    return len(set(values)) != len(values)


def _validate_semantics(av: dict) -> dict:
    """Checks in DynamoDB's order: per type member in request order, nested
    values before the 'more than one datatype' check. Returns a normalised copy."""
    if not av:
        raise ValidationException(EMPTY_VALUE)
    out: dict = {}
    for key, val in av.items():
        if key == "N":
            val = _format(_parse_number(val))
        elif key == "NULL" and not val:
            raise ValidationException(
                "One or more parameter values were invalid: Null attribute value types must have the value of true"
            )
        elif key == "SS":
            if not val:
                raise ValidationException("One or more parameter values were invalid: An string set  may not be empty")
            if None in val:  # found by fuzzing: reached value_size as a 500
                raise ValidationException(NULL_STRING_SET_MEMBER)
            if _has_duplicate(val):
                raise ValidationException(
                    f"One or more parameter values were invalid: Input collection {_value_str(val)} contains duplicates."
                )
        elif key == "NS":
            if not val:
                raise ValidationException("One or more parameter values were invalid: An number set  may not be empty")
            val = [_format(_parse_number(v)) if v is not None else _parse_number("") for v in val]
            if _has_duplicate(val):
                raise ValidationException("Input collection contains duplicates")
        elif key == "BS":
            if not val:
                raise ValidationException("One or more parameter values were invalid: Binary sets should not be empty")
            if None in val:
                raise ValidationException(NULL_BINARY_SET_MEMBER)
            if _has_duplicate(val):
                raise ValidationException(
                    f"One or more parameter values were invalid: Input collection {_value_str(val)}of type BS contains duplicates."
                )
        elif key == "M":
            val = {k: _validate_semantics(v) for k, v in val.items()}
        elif key == "L":
            val = [_validate_semantics(v) for v in val]
        out[key] = val
    if len(av) > 1:
        raise ValidationException(MULTIPLE_TYPES)
    return out


def validate_value(av: Any) -> dict:
    """Validate one request value; returns it with numbers canonicalised."""
    return _validate_semantics(check_value_shape(av))


def validate_item(item: Any) -> dict:
    """Validate every attribute: the whole shape pass first, as Coral does."""
    if isinstance(item, list):
        raise _serial("Unrecognized collection type java.util.Map<java.lang.String, " + _AV_CLASS + ">")
    if not isinstance(item, dict):
        raise _serial("Unexpected field type")
    if len(item) > 1024 and _names_size(item) > MAX_ITEM_SIZE:
        raise ValidationException(ITEM_TOO_LARGE)  # its names alone: no need to look at its values
    shaped = {name: check_value_shape(av) for name, av in item.items()}
    out: dict = {}
    for name, av in shaped.items():
        if not name:
            raise ValidationException(EMPTY_ATTRIBUTE_NAME)
        if len(name) > MAX_ATTRIBUTE_NAME_BYTES // 4 and _utf8_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
            raise ValidationException(ATTRIBUTE_NAME_TOO_LONG)
        out[name] = _validate_semantics(av)
    return out


def _names_size(item: dict) -> int:
    names = "".join(item)
    return len(names) if names.isascii() else len(names.encode("utf-8", "surrogatepass"))


# --- comparison ---------------------------------------------------------------

def value_type(av: dict) -> str:
    return next(iter(av))


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def values_equal(a: dict, b: dict) -> bool:
    ta, tb = value_type(a), value_type(b)
    if ta != tb:
        return False
    va, vb = a[ta], b[tb]
    if ta == "N":
        return Decimal(va) == Decimal(vb)
    if ta == "B":
        return _b64(va) == _b64(vb)
    if ta == "SS":
        return set(va) == set(vb)
    if ta == "NS":
        return {Decimal(x) for x in va} == {Decimal(x) for x in vb}
    if ta == "BS":
        return {_b64(x) for x in va} == {_b64(x) for x in vb}
    if ta == "L":
        return len(va) == len(vb) and all(values_equal(x, y) for x, y in zip(va, vb))
    if ta == "M":
        return va.keys() == vb.keys() and all(values_equal(va[k], vb[k]) for k in va)
    return va == vb


def _cmp(x: Any, y: Any) -> int:
    return (x > y) - (x < y)


def compare_values(a: dict, b: dict) -> int | None:
    """-1/0/1 for same-typed S, N or B values; None when not comparable."""
    ta, tb = value_type(a), value_type(b)
    if ta != tb:
        return None
    if ta == "S":
        return _cmp(a["S"].encode("utf-8"), b["S"].encode("utf-8"))
    if ta == "N":
        return _cmp(Decimal(a["N"]), Decimal(b["N"]))
    if ta == "B":
        return _cmp(_b64(a["B"]), _b64(b["B"]))
    return None


# --- size ---------------------------------------------------------------------

def number_size(text: str) -> int:
    """Bytes DynamoDB charges: an exponent byte, one byte per base-100 digit pair
    aligned on the decimal point, one more for negatives."""
    sign, digits, exp = _significant(Decimal(text))
    if digits == "0":
        return 1
    high = exp + len(digits) - 1  # power of ten of the leading digit
    pairs = high // 2 - exp // 2 + 1
    return 1 + pairs + (1 if sign else 0)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _b64_len(text: str) -> int:
    """Decoded length of validated base64, without decoding it."""
    return len(text) * 3 // 4 - (text[-2:].count("=") if text else 0)


def value_size(av: dict) -> int:
    # On every write, several times: kept to plain loops and no decoding.
    for kind, val in av.items():
        if kind == "S":
            return _utf8_len(val)
        if kind == "N":
            return number_size(val)
        if kind == "B":
            return _b64_len(val)
        if kind == "M":
            return 3 + sum(1 + _utf8_len(k) + value_size(v) for k, v in val.items())
        if kind == "L":
            return 3 + sum(1 + value_size(x) for x in val)
        if kind == "SS":
            return sum(_utf8_len(x) for x in val)
        if kind == "NS":
            return sum(number_size(x) for x in val)
        if kind == "BS":
            return sum(_b64_len(x) for x in val)
        return 1  # BOOL, NULL
    return 0


def item_size(item: dict) -> int:
    total = 0
    for name, av in item.items():
        total += _utf8_len(name) + value_size(av)
    return total


def check_item_size(item: dict) -> int:
    """The item's size, or ValidationException past DynamoDB's 400 KB."""
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        raise ValidationException(ITEM_TOO_LARGE)
    return size
