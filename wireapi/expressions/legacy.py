"""Pre-expression parameters: Expected, QueryFilter/ScanFilter/KeyConditions,
AttributeUpdates and AttributesToGet, with DynamoDB's validation messages.

They are converted to the same objects the expression code produces so the
operations evaluate both kinds alike.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from wireapi import errors
from wireapi.errors import ValidationException

from .ast import Literal
from .projection import Projection
from .updates import ResolvedAction, UpdatePlan

_INVALID = "One or more parameter values were invalid: "
_ARG_COUNTS = {"NULL": 0, "NOT_NULL": 0, "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1,
               "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "BETWEEN": 2}
# EQ and NE take a value of any type (lists, maps, BOOL and NULL too), as DynamoDB does.
_ALLOWED_TYPES = {
    "LE": ("S", "N", "B"), "LT": ("S", "N", "B"), "GE": ("S", "N", "B"), "GT": ("S", "N", "B"),
    "CONTAINS": ("S", "N", "B"), "NOT_CONTAINS": ("S", "N", "B"), "BEGINS_WITH": ("S", "B"),
    "IN": ("S", "N", "B"), "BETWEEN": ("S", "N", "B"),
}


def _values():
    from wireapi import values  # lazy: sibling module built in parallel

    return values


def _kind(value: dict) -> str:
    return next(iter(value))


# --- comparison semantics -----------------------------------------------------

def _contains(value: dict, member: dict) -> bool:
    kind, raw = next(iter(value.items()))
    mkind, mraw = next(iter(member.items()))
    if kind == "S" and mkind == "S":
        return mraw in raw
    if kind == "B" and mkind == "B":
        return base64.b64decode(mraw) in base64.b64decode(raw)
    if kind in ("SS", "NS", "BS") and mkind == kind[0]:
        return any(_values().values_equal({mkind: x}, member) for x in raw)
    if kind == "L":
        return any(_values().values_equal(x, member) for x in raw)
    return False


def compare_legacy(operator: str, value: dict | None, args: list[dict]) -> bool:
    """One ComparisonOperator test against an attribute value (None = missing)."""
    values = _values()
    if operator == "NULL":
        return value is None
    if operator == "NOT_NULL":
        return value is not None
    if operator == "NE":
        return value is None or not values.values_equal(value, args[0])
    if operator == "NOT_CONTAINS":  # false on a missing attribute, as in DynamoDB
        return value is not None and not _contains(value, args[0])
    if value is None:
        return False
    if operator == "EQ":
        return values.values_equal(value, args[0])
    if operator == "IN":
        return any(values.values_equal(value, arg) for arg in args)
    if operator == "CONTAINS":
        return _contains(value, args[0])
    if operator == "BEGINS_WITH":
        arg = args[0]
        if "S" in value and "S" in arg:
            return value["S"].startswith(arg["S"])
        if "B" in value and "B" in arg:
            return base64.b64decode(value["B"]).startswith(base64.b64decode(arg["B"]))
        return False
    if operator == "BETWEEN":
        low, high = values.compare_values(value, args[0]), values.compare_values(value, args[1])
        return low is not None and high is not None and low >= 0 and high <= 0
    order = values.compare_values(value, args[0])
    if order is None:
        return False
    return {"LT": order < 0, "LE": order <= 0, "GT": order > 0, "GE": order >= 0}[operator]


@dataclass(frozen=True, slots=True)
class LegacyCondition:
    """Top-level attribute tests joined by AND or OR; evaluate_condition accepts it."""
    tests: tuple[tuple[str, str, tuple[dict, ...]], ...]  # (attribute, operator, values)
    join: str = "AND"

    def evaluate(self, item: dict | None) -> bool:
        results = (compare_legacy(op, (item or {}).get(name), list(args)) for name, op, args in self.tests)
        return any(results) if self.join == "OR" else all(results)

    @property
    def path_heads(self) -> frozenset[str]:
        return frozenset(name for name, _, _ in self.tests)


# --- Expected -------------------------------------------------------------------

def condition_from_expected(expected: dict, conditional_operator: str | None = None) -> LegacyCondition:
    """Validate Expected as DynamoDB does (first bad attribute wins)."""
    values = _values()
    tests: list[tuple[str, str, tuple[dict, ...]]] = []
    for name, cond in expected.items():
        if "AttributeValueList" in cond and "Value" in cond:
            raise ValidationException(
                _INVALID + f"Value and AttributeValueList cannot be used together for Attribute: {name}")
        operator = cond.get("ComparisonOperator")
        if operator is not None:
            if "Exists" in cond:
                raise ValidationException(
                    _INVALID + f"Exists and ComparisonOperator cannot be used together for Attribute: {name}")
            if operator not in ("NULL", "NOT_NULL") and "AttributeValueList" not in cond and "Value" not in cond:
                raise ValidationException(
                    _INVALID + f"Value or AttributeValueList must be used with ComparisonOperator: {operator} "
                    f"for Attribute: {name}")
            args = cond.get("AttributeValueList")
            if args is None:
                args = [cond["Value"]] if cond.get("Value") else []
            count_ok = (len(args) > 0) if operator == "IN" else len(args) == _ARG_COUNTS.get(operator, -1)
            if not count_ok:
                raise ValidationException(
                    _INVALID + f"Invalid number of argument(s) for the {operator} ComparisonOperator")
            args = [values.validate_value(arg) for arg in args]
            if args and any(_kind(a) != _kind(args[0]) for a in args):
                raise ValidationException(_INVALID + "AttributeValues inside AttributeValueList must be of same type")
            _check_types(operator, args)
            if operator == "BETWEEN" and (values.compare_values(args[0], args[1]) or 0) > 0:
                raise ValidationException(
                    "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")
            tests.append((name, operator, tuple(args)))
        elif "AttributeValueList" in cond:
            raise ValidationException(
                _INVALID + f"AttributeValueList can only be used with a ComparisonOperator for Attribute: {name}")
        else:
            exists = cond.get("Exists")
            if exists is not False and cond.get("Value") is None:
                shown = "null" if exists is None else "true"
                raise ValidationException(
                    _INVALID + f"Value must be provided when Exists is {shown} for Attribute: {name}")
            if exists is False and cond.get("Value") is not None:
                raise ValidationException(
                    _INVALID + f"Value cannot be used when Exists is false for Attribute: {name}")
            if exists is False:
                tests.append((name, "NULL", ()))
            else:
                tests.append((name, "EQ", (values.validate_value(cond["Value"]),)))
    return LegacyCondition(tuple(tests), conditional_operator or "AND")


# --- QueryFilter / ScanFilter / KeyConditions ----------------------------------

def check_condition_args(operator: str, args: list[dict]) -> None:
    """Argument checks for one ComparisonOperator, in DynamoDB's order."""
    expected = _ARG_COUNTS.get(operator)
    if (expected is not None and len(args) != expected) or (expected is None and not args):
        raise ValidationException(_INVALID + f"Invalid number of argument(s) for the {operator} ComparisonOperator")
    if args and any(_kind(a) != _kind(args[0]) for a in args):
        raise ValidationException(_INVALID + "AttributeValues inside AttributeValueList must be of same type")
    _check_types(operator, args)
    if operator == "BETWEEN" and (_values().compare_values(args[0], args[1]) or 0) > 0:
        raise ValidationException(
            "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound")


def _check_types(operator: str, args: list[dict]) -> None:
    """A constant of a type the operator cannot test: refused before any item is read."""
    allowed = _ALLOWED_TYPES.get(operator)
    for arg in args:
        if allowed and _kind(arg) not in allowed:
            raise ValidationException(
                _INVALID + f"ComparisonOperator {operator} is not valid for {_kind(arg)} AttributeValue type")


def check_conditional_operator(data: dict, legacy_param: str) -> None:
    """ConditionalOperator joins the tests of Expected (QueryFilter, ScanFilter):
    without them it is refused."""
    if data.get("ConditionalOperator") is not None and not data.get(legacy_param):
        raise ValidationException(errors.CONDITIONAL_OPERATOR_ALONE)


def validate_conditions(conditions: dict) -> dict[str, tuple[str, tuple[dict, ...]]]:
    """Checks of a Condition map (QueryFilter, ScanFilter, KeyConditions);
    returns name -> (operator, normalised values)."""
    out: dict[str, tuple[str, tuple[dict, ...]]] = {}
    for name, cond in conditions.items():
        operator = cond.get("ComparisonOperator")
        args = [_values().validate_value(arg) for arg in cond.get("AttributeValueList") or []]
        check_condition_args(operator, args)
        out[name] = (operator, tuple(args))
    return out


def condition_from_filter(conditions: dict, conditional_operator: str | None = None) -> LegacyCondition:
    checked = validate_conditions(conditions)
    return LegacyCondition(tuple((name, op, args) for name, (op, args) in checked.items()),
                           conditional_operator or "AND")


# --- AttributeUpdates / AttributesToGet ---------------------------------------

def update_from_attribute_updates(attribute_updates: dict) -> UpdatePlan:
    values = _values()
    actions: list[ResolvedAction] = []
    for name, update in attribute_updates.items():
        action = update.get("Action") or "PUT"
        raw = update.get("Value")
        value = values.validate_value(raw) if raw is not None else None
        if value is None and action != "DELETE":
            raise ValidationException(
                _INVALID + "Only DELETE action is allowed when no attribute value is specified")
        kind = _kind(value) if value is not None else None
        if value is not None and action == "DELETE" and kind not in ("SS", "NS", "BS"):
            raise ValidationException(_INVALID + f"DELETE action with value is not supported for the type {kind}")
        if value is not None and action == "ADD" and kind not in ("L", "SS", "NS", "BS", "N"):
            raise ValidationException(_INVALID + f"ADD action is not supported for the type {kind}")
        if action == "PUT":
            actions.append(ResolvedAction("SET", (name,), Literal(value), kind))  # type: ignore[arg-type]
        elif value is None:
            actions.append(ResolvedAction("REMOVE", (name,)))
        else:
            actions.append(ResolvedAction(action, (name,), Literal(value), kind))
    return UpdatePlan(tuple(actions), frozenset(), legacy=True)


def projection_from_attributes_to_get(names: list[str]) -> Projection:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationException(_INVALID + f"Duplicate value in attribute name: {name}")
        seen.add(name)
    return Projection(tuple((name,) for name in names))
