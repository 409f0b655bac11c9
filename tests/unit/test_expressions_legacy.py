"""Legacy parameters: Expected, Query/ScanFilter, KeyConditions, AttributeUpdates, AttributesToGet."""
from __future__ import annotations

import pytest

from wireapi.errors import ValidationException
from wireapi.expressions import (
    apply_update, check_key_not_updated, condition_from_expected, condition_from_filter, evaluate_condition,
    key_condition_from_key_conditions, project, projection_from_attributes_to_get, update_from_attribute_updates,
)

S = lambda s: {"S": s}  # noqa: E731
N = lambda n: {"N": str(n)}  # noqa: E731
ITEM = {"id": S("k"), "n": N(5), "s": S("hello"), "ss": {"SS": ["a", "b"]}, "l": {"L": [S("x")]}}
INVALID = "One or more parameter values were invalid: "


def error_of(fn, *args) -> str:
    with pytest.raises(ValidationException) as info:
        fn(*args)
    return info.value.message


@pytest.mark.parametrize("expected,message", [
    ({"a": {"Value": S("x"), "AttributeValueList": [S("x")]}},
     "Value and AttributeValueList cannot be used together for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ", "Exists": True, "Value": S("x")}},
     "Exists and ComparisonOperator cannot be used together for Attribute: a"),
    ({"a": {"ComparisonOperator": "EQ"}},
     "Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: a"),
    ({"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1)]}},
     "Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
    ({"a": {"ComparisonOperator": "NULL", "AttributeValueList": [N(1)]}},
     "Invalid number of argument(s) for the NULL ComparisonOperator"),
    ({"a": {"ComparisonOperator": "IN", "AttributeValueList": [N(1), S("x")]}},
     "AttributeValues inside AttributeValueList must be of same type"),
    ({"a": {"AttributeValueList": [N(1)]}},
     "AttributeValueList can only be used with a ComparisonOperator for Attribute: a"),
    ({"a": {}}, "Value must be provided when Exists is null for Attribute: a"),
    ({"a": {"Exists": True}}, "Value must be provided when Exists is true for Attribute: a"),
    ({"a": {"Exists": False, "Value": S("x")}}, "Value cannot be used when Exists is false for Attribute: a"),
])
def test_expected_errors(expected: dict, message: str) -> None:
    assert error_of(condition_from_expected, expected, None) == INVALID + message


def test_expected_between_order() -> None:
    expected = {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(2), N(1)]}}
    assert error_of(condition_from_expected, expected, None) == \
        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"


@pytest.mark.parametrize("expected,operator,result", [
    ({"n": {"Value": N(5)}}, None, True),
    ({"n": {"Value": N(6)}}, None, False),
    ({"nope": {"Exists": False}}, None, True),
    ({"n": {"Exists": False}}, None, False),
    ({"n": {"ComparisonOperator": "GT", "AttributeValueList": [N(4)]}}, None, True),
    ({"n": {"ComparisonOperator": "NE", "Value": N(4)}}, None, True),
    ({"nope": {"ComparisonOperator": "NE", "AttributeValueList": [N(4)]}}, None, True),
    ({"s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [S("he")]}}, None, True),
    ({"ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [S("a")]}}, None, True),
    ({"ss": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [S("a")]}}, None, False),
    ({"n": {"ComparisonOperator": "IN", "AttributeValueList": [N(1), N(5)]}}, None, True),
    ({"n": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [N(1), N(5)]}}, None, True),
    ({"n": {"ComparisonOperator": "NOT_NULL"}, "s": {"ComparisonOperator": "NULL"}}, "AND", False),
    ({"n": {"ComparisonOperator": "NOT_NULL"}, "s": {"ComparisonOperator": "NULL"}}, "OR", True),
])
def test_expected_evaluation(expected: dict, operator: str | None, result: bool) -> None:
    assert evaluate_condition(condition_from_expected(expected, operator), ITEM) is result


def test_filters() -> None:
    cond = condition_from_filter({"n": {"ComparisonOperator": "LE", "AttributeValueList": [N(5)]}})
    assert evaluate_condition(cond, ITEM)
    assert error_of(condition_from_filter, {"n": {"ComparisonOperator": "LT", "AttributeValueList": [{"SS": ["a"]}]}}) \
        == INVALID + "ComparisonOperator LT is not valid for SS AttributeValue type"


def test_key_conditions() -> None:
    key = key_condition_from_key_conditions({
        "id": {"ComparisonOperator": "EQ", "AttributeValueList": [S("k")]},
        "sk": {"ComparisonOperator": "GT", "AttributeValueList": [N(3)]},
    })
    query = key.for_schema(("id", "S"), ("sk", "N"))
    assert query.hash_value == S("k") and query.matches_range(N(4)) and not query.matches_range(N(3))
    bad = key_condition_from_key_conditions({"id": {"ComparisonOperator": "NE", "AttributeValueList": [S("k")]}})
    assert error_of(bad.for_schema, ("id", "S")) == "Attempted conditional constraint is not an indexable operation"


def test_attribute_updates() -> None:
    plan = update_from_attribute_updates({
        "n": {"Action": "ADD", "Value": N(2)},
        "s": {"Value": S("new")},
        "ss": {"Action": "DELETE", "Value": {"SS": ["a", "b"]}},
        "l": {"Action": "ADD", "Value": {"L": [S("y")]}},
        "gone": {"Action": "DELETE"},
    })
    result = apply_update(plan, dict(ITEM, gone=N(1)))
    assert result.item == {"id": S("k"), "n": N(7), "s": S("new"), "l": {"L": [S("x"), S("y")]}}
    assert result.updated_paths == [("n",), ("s",), ("ss",), ("l",), ("gone",)]
    check_key_not_updated(plan, ("id",))
    assert error_of(check_key_not_updated, plan, ("n",)) == \
        INVALID + "Cannot update attribute n. This attribute is part of the key"
    mismatch = update_from_attribute_updates({"s": {"Action": "ADD", "Value": N(1)}})
    assert error_of(apply_update, mismatch, ITEM) == "Type mismatch for attribute to update"


@pytest.mark.parametrize("updates,message", [
    ({"a": {"Action": "PUT"}}, "Only DELETE action is allowed when no attribute value is specified"),
    ({"a": {"Action": "DELETE", "Value": S("x")}}, "DELETE action with value is not supported for the type S"),
    ({"a": {"Action": "ADD", "Value": S("x")}}, "ADD action is not supported for the type S"),
])
def test_attribute_update_errors(updates: dict, message: str) -> None:
    assert error_of(update_from_attribute_updates, updates) == INVALID + message


def test_attributes_to_get() -> None:
    assert project(ITEM, projection_from_attributes_to_get(["n", "nope", "s"])) == {"n": N(5), "s": S("hello")}
    assert error_of(projection_from_attributes_to_get, ["a", "b", "a"]) == \
        INVALID + "Duplicate value in attribute name: a"


def test_update_of_new_item_sees_its_key() -> None:
    from wireapi.expressions import ExpressionAttributes, parse_update

    plan = parse_update("SET dup = id", ExpressionAttributes(None, None))
    assert apply_update(plan, None, {"id": S("k")}).item == {"id": S("k"), "dup": S("k")}
