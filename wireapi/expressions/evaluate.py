"""Evaluating resolved conditions against an item.

A missing attribute or a type mismatch never raises: the comparison is simply
false (and `<>` true), as in DynamoDB.
"""
from __future__ import annotations

import base64

from .ast import And, Between, Compare, Condition, Func, In, Literal, Not, Operand, Or, Path
from .paths import get_path


def _values():
    from wireapi import values  # lazy: sibling module built in parallel

    return values


def operand_value(op: Operand, item: dict | None) -> dict | None:
    if isinstance(op, Path):
        return get_path(item, op.elements)
    if isinstance(op, Literal):
        return op.value
    if isinstance(op, Func) and op.name == "size":
        return size_of(operand_value(op.args[0], item))
    return None


def size_of(value: dict | None) -> dict | None:
    if value is None:
        return None
    kind, raw = next(iter(value.items()))
    if kind == "S":
        length = len(raw)
    elif kind == "B":
        length = len(base64.b64decode(raw))
    elif kind in ("SS", "NS", "BS", "L", "M"):
        length = len(raw)
    else:
        return None
    return {"N": str(length)}


def _compare(op: str, left: dict | None, right: dict | None) -> bool:
    if op == "<>":
        if left is None or right is None:
            return left is not right  # two missing operands count as equal (as dynalite)
        return not _values().values_equal(left, right)
    if left is None or right is None:
        return False
    if op == "=":
        return _values().values_equal(left, right)
    order = _values().compare_values(left, right)
    if order is None:
        return False
    if op == "<":
        return order < 0
    if op == "<=":
        return order <= 0
    if op == ">":
        return order > 0
    return order >= 0


def _begins_with(value: dict | None, prefix: dict | None) -> bool:
    if value is None or prefix is None:
        return False
    if "S" in value and "S" in prefix:
        return value["S"].startswith(prefix["S"])
    if "B" in value and "B" in prefix:
        return base64.b64decode(value["B"]).startswith(base64.b64decode(prefix["B"]))
    return False


def _contains(value: dict | None, member: dict | None) -> bool:
    if value is None or member is None:
        return False
    kind, raw = next(iter(value.items()))
    mkind, mraw = next(iter(member.items()))
    if kind == "S":
        return mkind == "S" and mraw in raw
    if kind == "B":
        return mkind == "B" and base64.b64decode(mraw) in base64.b64decode(raw)
    if kind in ("SS", "NS", "BS"):
        if mkind != kind[0]:
            return False
        return any(_values().values_equal({mkind: x}, member) for x in raw)
    if kind == "L":
        return any(_values().values_equal(x, member) for x in raw)
    return False


def _function(func: Func, item: dict | None) -> bool:
    name, args = func.name, func.args
    if name == "attribute_exists":
        return operand_value(args[0], item) is not None
    if name == "attribute_not_exists":
        return operand_value(args[0], item) is None
    first = operand_value(args[0], item)
    second = operand_value(args[1], item) if len(args) > 1 else None
    if name == "attribute_type":
        return first is not None and second is not None and next(iter(first)) == second.get("S")
    if name == "begins_with":
        return _begins_with(first, second)
    if name == "contains":
        return _contains(first, second)
    return False  # size() is never a condition by itself (rejected at parse time)


def evaluate_condition(cond: Condition | object, item: dict | None) -> bool:
    """`cond` is a ParsedCondition (or its tree) or a LegacyCondition; `item`
    None means no item."""
    if hasattr(cond, "evaluate"):
        return cond.evaluate(item)  # type: ignore[union-attr]
    tree = getattr(cond, "tree", cond)
    return _evaluate(tree, item)  # type: ignore[arg-type]


def _evaluate(cond: Condition, item: dict | None) -> bool:
    if isinstance(cond, Compare):
        return _compare(cond.op, operand_value(cond.left, item), operand_value(cond.right, item))
    if isinstance(cond, And):
        return all(_evaluate(c, item) for c in cond.items)
    if isinstance(cond, Or):
        return any(_evaluate(c, item) for c in cond.items)
    if isinstance(cond, Not):
        return not _evaluate(cond.operand, item)
    if isinstance(cond, Between):
        value = operand_value(cond.operand, item)
        return _compare(">=", value, operand_value(cond.low, item)) and \
            _compare("<=", value, operand_value(cond.high, item))
    if isinstance(cond, In):
        value = operand_value(cond.operand, item)
        return value is not None and any(_compare("=", value, operand_value(c, item)) for c in cond.choices)
    if isinstance(cond, Func):
        return _function(cond, item)
    raise TypeError(cond)
