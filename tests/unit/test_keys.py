"""Primary key checks against a table's key schema."""
import pytest

from storage.keycodec import encode_number
from wireapi.errors import ValidationException
from wireapi.keys import KeySchema, key_from_item, key_from_key_param

HASH = KeySchema("id", "S")
BOTH = KeySchema("id", "S", "n", "N")
PRE = "One or more parameter values were invalid: "


def _msg(fn, schema, value) -> str:
    with pytest.raises(ValidationException) as exc:
        fn(schema, value)
    return exc.value.message


def test_names():
    assert HASH.names == ("id",)
    assert BOTH.names == ("id", "n")


def test_item_keys_encode():
    assert key_from_item(HASH, {"id": {"S": "a"}, "x": {"N": "1"}}) == (b"a", b"")
    assert key_from_item(BOTH, {"id": {"S": "a"}, "n": {"N": "1.0"}}) == (b"a", encode_number("1"))


def test_item_key_errors():
    assert _msg(key_from_item, BOTH, {"n": {"N": "1"}}) == PRE + "Missing the key id in the item"
    assert _msg(key_from_item, BOTH, {"id": {"S": "a"}}) == PRE + "Missing the key n in the item"
    assert _msg(key_from_item, HASH, {"id": {"N": "1"}}) == PRE + "Type mismatch for key id expected: S actual: N"
    assert _msg(key_from_item, HASH, {"id": {"S": ""}}) == (
        "One or more parameter values are not valid. The AttributeValue for a key attribute "
        "cannot contain an empty string value. Key: id")
    assert _msg(key_from_item, KeySchema("id", "B"), {"id": {"B": ""}}).endswith("empty binary value. Key: id")
    assert _msg(key_from_item, HASH, {"id": {"S": "x" * 2049}}) == (
        PRE + "Size of hashkey has exceeded the maximum size limit of2048 bytes")
    key_from_item(HASH, {"id": {"S": "x" * 2048}})
    range_s = KeySchema("id", "S", "r", "S")
    assert _msg(key_from_item, range_s, {"id": {"S": "a"}, "r": {"S": "é" * 513}}) == (
        PRE + "Aggregated size of all range keys has exceeded the size limit of 1024 bytes")


def test_key_param():
    assert key_from_key_param(HASH, {"id": {"S": "a"}}) == (b"a", b"")
    mismatch = "The provided key element does not match the schema"
    assert _msg(key_from_key_param, HASH, {"id": {"S": "a"}, "x": {"S": "b"}}) == mismatch
    assert _msg(key_from_key_param, HASH, {"other": {"S": "a"}}) == mismatch
    assert _msg(key_from_key_param, HASH, {"id": {"N": "1"}}) == mismatch
    assert _msg(key_from_key_param, BOTH, {"id": {"S": "a"}}) == mismatch
    assert _msg(key_from_key_param, HASH, {"id": {"S": ""}}) == (
        PRE + "The AttributeValue for a key attribute cannot contain an empty string value. Key: id")
