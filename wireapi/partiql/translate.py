"""From a PartiQL tree to the existing expression machinery.

Conditions, projections and SET/REMOVE lists become DynamoDB expression texts
with #name and :value placeholders (never user text in the expression itself),
which wireapi.expressions then parses and evaluates: one evaluator for both
languages. `?` parameters and literals become placeholder values.
"""
from __future__ import annotations

import re
from typing import Any

from wireapi import expressions, values
from wireapi.errors import (
    PARTIQL_EMPTY_SET, PARTIQL_MANDATORY_KEY, PARTIQL_UNCONVERTIBLE, ValidationException, partiql_not_well_formed,
    partiql_set_function, partiql_unordered_operand, partiql_unrecognized_function, partiql_unsupported,
    partiql_unsupported_data_type,
)

from . import ast

_CONDITION_FUNCTIONS = ("begins_with", "contains", "attribute_type", "attribute_exists", "attribute_not_exists")
_SET_KINDS = {"S": "SS", "N": "NS", "B": "BS"}
_EXPRESSION_PREFIX = re.compile(r"Invalid [A-Za-z]+Expression: ")
_NUMBER = re.compile(r"[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?")
_INT32 = range(-2**31, 2**31)


def number_converts(text: str) -> bool:
    """Whether a number's exponent and scale fit the 32-bit integers DynamoDB
    (Java's BigDecimal) keeps them in; anything else is left to values.py."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        return True
    exponent = int(match.group(2) or 0)
    return exponent in _INT32 and len(match.group(1) or "") - exponent in _INT32


def check_parameter_numbers(av: Any) -> None:
    """Parameters whose numbers cannot be converted at all, with DynamoDB's text."""
    if not isinstance(av, dict):
        return
    for kind, value in av.items():
        if kind == "N" and isinstance(value, str) and not number_converts(value):
            raise ValidationException(f"{PARTIQL_UNCONVERTIBLE}: {value}")
        if kind == "NS" and isinstance(value, list):
            for member in value:
                if isinstance(member, str) and not number_converts(member):
                    raise ValidationException(f"{PARTIQL_UNCONVERTIBLE}: {member}")
        elif kind == "L" and isinstance(value, list):
            for member in value:
                check_parameter_numbers(member)
        elif kind == "M" and isinstance(value, dict):
            for member in value.values():
                check_parameter_numbers(member)


def _chain(expr: ast.Expr, op: str) -> list[ast.Expr]:
    """The operands of a chain of one operator (a AND b AND c), without recursion."""
    out: list[ast.Expr] = []
    pending = [expr]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Binary) and node.op == op:
            pending += [node.right, node.left]
        else:
            out.append(node)
    return out


def conjuncts(expr: ast.Expr | None) -> list[ast.Expr]:
    """The terms of a top-level AND chain."""
    return [] if expr is None else _chain(expr, "AND")


def bare(parse: Any, *args: Any) -> Any:
    """Call an expression parser; PartiQL reports its errors without the
    "Invalid FilterExpression: " style prefix."""
    try:
        return parse(*args, limit=False)
    except ValidationException as exc:
        match = _EXPRESSION_PREFIX.match(exc.message or "")
        if match is None:
            raise
        raise ValidationException(exc.message[match.end():]) from None  # type: ignore[index]


def join_and(terms: list[ast.Expr]) -> ast.Expr | None:
    out: ast.Expr | None = None
    for term in terms:
        out = term if out is None else ast.Binary("AND", out, term)
    return out


def is_constant(expr: ast.Expr) -> bool:
    if isinstance(expr, (ast.Lit, ast.Param)):
        return True
    if isinstance(expr, (ast.ListExpr, ast.SetExpr)):
        return all(is_constant(item) for item in expr.items)
    if isinstance(expr, ast.MapExpr):
        return all(is_constant(value) for _, value in expr.pairs)
    return False


class Binder:
    """Builds expression texts for one statement and the placeholders they use."""

    def __init__(self, params: list[dict[str, Any]]) -> None:
        self.params = params
        self.names: dict[str, str] = {}
        self._name_refs: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}

    # --- values ---
    def constant(self, expr: ast.Expr, where: str = "root") -> dict[str, Any]:
        """The AttributeValue of a literal, parameter or constructor; `where`
        locates it inside its value for DynamoDB's messages ("root.m[1]")."""
        if isinstance(expr, ast.Lit):
            if "N" in expr.value and not number_converts(expr.value["N"]):
                raise partiql_not_well_formed("")
            try:
                return values.validate_value(expr.value)
            except ValidationException as exc:
                raise ValidationException(f"{exc.message} under {where}") from None
        if isinstance(expr, ast.Param):
            return self.params[expr.index]
        if isinstance(expr, ast.ListExpr):
            return {"L": [self.constant(item, f"{where}[{i}]") for i, item in enumerate(expr.items)]}
        if isinstance(expr, ast.MapExpr):
            return {"M": {name: self.constant(value, f"{where}.{name}") for name, value in expr.pairs}}
        if isinstance(expr, ast.SetExpr):
            if not expr.items:
                raise ValidationException(PARTIQL_EMPTY_SET)
            members = [self.constant(item, where) for item in expr.items]
            kinds = {next(iter(m)) for m in members}
            if len(kinds) != 1 or next(iter(kinds)) not in _SET_KINDS:
                raise partiql_unsupported("sets must hold only strings, only numbers or only binary values")
            kind = kinds.pop()
            return values.validate_value({_SET_KINDS[kind]: [m[kind] for m in members]})
        if isinstance(expr, ast.Call):
            raise partiql_unsupported_data_type(expr.name, where, expr.at)
        if isinstance(expr, ast.Missing):
            raise partiql_unsupported("MISSING can only be compared with a path")
        raise partiql_unsupported("only literals and parameters are supported here")

    def item(self, expr: ast.MapExpr) -> dict[str, Any]:
        """INSERT's VALUE: each attribute's value is a root of its own."""
        return {name: self.constant(value) for name, value in expr.pairs}

    def value_ref(self, av: dict[str, Any]) -> str:
        ref = f":v{len(self.values)}"
        self.values[ref] = av
        return ref

    # --- paths and operands ---
    def name_ref(self, name: str) -> str:
        ref = self._name_refs.get(name)
        if ref is None:
            ref = self._name_refs[name] = f"#n{len(self._name_refs)}"
            self.names[ref] = name
        return ref

    def path(self, path: ast.Path) -> str:
        out = self.name_ref(path.steps[0])  # type: ignore[arg-type]
        for step in path.steps[1:]:
            out += f"[{step}]" if isinstance(step, int) else "." + self.name_ref(step)
        return out

    def operand(self, expr: ast.Expr) -> str:
        if isinstance(expr, ast.Path):
            return self.path(expr)
        if isinstance(expr, ast.Call) and expr.name == "size" and len(expr.args) == 1 \
                and isinstance(expr.args[0], ast.Path):
            return f"size({self.path(expr.args[0])})"
        if isinstance(expr, ast.Call) and expr.name not in _CONDITION_FUNCTIONS + ("size",):
            raise partiql_unrecognized_function(expr.name, expr.at)
        return self.value_ref(self.constant(expr))

    # --- conditions ---
    def condition(self, expr: ast.Expr) -> str:  # noqa: C901 - one branch per node kind
        if isinstance(expr, ast.Binary) and expr.op in ("AND", "OR"):
            return f" {expr.op} ".join(f"({self.condition(term)})" for term in _chain(expr, expr.op))
        if isinstance(expr, ast.Not):
            return f"NOT ({self.condition(expr.operand)})"
        if isinstance(expr, ast.Binary) and expr.op not in ("+", "-"):
            return self._comparison(expr)
        if isinstance(expr, ast.Between):
            self._check_ordered("BETWEEN", expr.operand, expr.low, expr.high)
            text = f"{self.operand(expr.operand)} BETWEEN {self.operand(expr.low)} AND {self.operand(expr.high)}"
            return f"NOT ({text})" if expr.negated else text
        if isinstance(expr, ast.In):
            choices: list[str] = []
            for choice in expr.choices:
                if isinstance(choice, (ast.ListExpr, ast.Param)) and len(expr.choices) == 1:
                    av = self.constant(choice)
                    if "L" in av:
                        choices += [self.value_ref(member) for member in av["L"]]
                        continue
                choices.append(self.operand(choice))
            text = f"{self.operand(expr.operand)} IN ({', '.join(choices)})"
            return f"NOT ({text})" if expr.negated else text
        if isinstance(expr, ast.Is):
            return self._is(expr)
        if isinstance(expr, ast.Call) and expr.name in _CONDITION_FUNCTIONS:
            return f"{expr.name}({', '.join(self.operand(arg) for arg in expr.args)})"
        if isinstance(expr, ast.Call):
            raise partiql_unrecognized_function(expr.name, expr.at)
        raise partiql_unsupported("the where clause must be made of comparisons and functions")

    def _comparison(self, expr: ast.Binary) -> str:
        left, right = expr.left, expr.right
        if isinstance(right, ast.Missing) or isinstance(left, ast.Missing):
            path = left if isinstance(right, ast.Missing) else right
            if expr.op in ("=", "<>") and isinstance(path, ast.Path):
                func = "attribute_not_exists" if expr.op == "=" else "attribute_exists"
                return f"{func}({self.path(path)})"
            raise partiql_unsupported("MISSING can only be compared with = or <> to a path")
        for test, other in ((left, right), (right, left)):
            # attribute_exists(a) = true: a condition compared with a boolean
            if isinstance(test, ast.Call) and test.name in _CONDITION_FUNCTIONS and expr.op in ("=", "<>") \
                    and isinstance(other, ast.Lit) and "BOOL" in other.value:
                holds = other.value["BOOL"] == (expr.op == "=")
                text = self.condition(test)
                return text if holds else f"NOT ({text})"
        if expr.op in ("<", "<=", ">", ">="):
            self._check_ordered(expr.op, left, right)
        return f"{self.operand(left)} {expr.op} {self.operand(right)}"

    def _check_ordered(self, op: str, *operands: ast.Expr) -> None:
        """Ordering operators refuse a value of a type that has no order."""
        for operand in operands:
            if is_constant(operand):
                kind = next(iter(self.constant(operand)))
                if kind not in ("S", "N", "B"):
                    raise partiql_unordered_operand(op, kind)

    def _is(self, expr: ast.Is) -> str:
        if not isinstance(expr.operand, ast.Path):
            raise partiql_unsupported("IS can only test a path")
        path = self.path(expr.operand)
        if expr.what == "MISSING":
            return f"attribute_exists({path})" if expr.negated else f"attribute_not_exists({path})"
        if expr.what == "NULL":
            null = self.value_ref({"S": "NULL"})
            if expr.negated:  # MISSING IS NULL too, as in PartiQL
                return f"attribute_exists({path}) AND NOT (attribute_type({path}, {null}))"
            return f"attribute_not_exists({path}) OR attribute_type({path}, {null})"
        if not expr.what:
            raise partiql_unsupported("IsType")
        text = " OR ".join(f"attribute_type({path}, {self.value_ref({'S': kind})})" for kind in expr.what.split())
        return f"NOT ({text})" if expr.negated else text

    # --- update actions ---
    def update_value(self, expr: ast.Expr) -> str:
        if isinstance(expr, ast.Path):
            return self.path(expr)
        if isinstance(expr, ast.Binary) and expr.op in ("+", "-"):
            return f"{self.update_value(expr.left)} {expr.op} {self.update_value(expr.right)}"
        if isinstance(expr, ast.Call) and expr.name in ("list_append", "if_not_exists"):
            return f"{expr.name}({', '.join(self.update_value(arg) for arg in expr.args)})"
        if isinstance(expr, ast.Call):
            raise partiql_unsupported(f"Function {expr.name} is not supported in a SET clause")
        return self.value_ref(self.constant(expr))

    def update_expression(self, assignments: tuple[ast.Assignment, ...]) -> str:
        sections: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
        for assignment in assignments:
            target, value = assignment.path, assignment.value
            if value is None:
                sections["REMOVE"].append(self.path(target))
            elif isinstance(value, ast.Call) and value.name in ("set_add", "set_delete"):
                kind = "ADD" if value.name == "set_add" else "DELETE"
                sections[kind].append(f"{self.path(target)} {self.value_ref(self._set_operand(target, value))}")
            else:
                sections["SET"].append(f"{self.path(target)} = {self.update_value(value)}")
        return " ".join(f"{kind} {', '.join(parts)}" for kind, parts in sections.items() if parts)

    def _set_operand(self, target: ast.Path, call: ast.Call) -> dict[str, Any]:
        """The set that SET a = set_add(a, <<...>>) adds (or set_delete removes)."""
        if len(call.args) != 2:
            raise partiql_set_function(call.name, "arity", call.at)
        first, second = call.args
        if first != target:
            raise partiql_set_function(call.name, "first", call.at)
        value = self.constant(second) if is_constant(second) else None
        if value is None or not next(iter(value)) in ("SS", "NS", "BS"):
            at = first.at if isinstance(first, ast.Path) else call.at
            raise partiql_set_function(call.name, "second", at)
        return value

    def attributes(self) -> expressions.ExpressionAttributes:
        return expressions.ExpressionAttributes(self.names or None, self.values or None)


def key_equality(term: ast.Expr, names: tuple[str, ...]) -> tuple[str, ast.Expr] | None:
    """(key attribute, value expression) when `term` is `key = constant`."""
    if not (isinstance(term, ast.Binary) and term.op == "="):
        return None
    for path, other in ((term.left, term.right), (term.right, term.left)):
        if isinstance(path, ast.Path) and len(path.steps) == 1 and path.steps[0] in names and is_constant(other):
            return path.steps[0], other  # type: ignore[return-value]
    return None


def split_key(where: ast.Expr | None, names: tuple[str, ...], binder: Binder
              ) -> tuple[dict[str, Any], ast.Expr | None]:
    """The full primary key a write names (equalities in the top-level AND) and
    the rest of the where clause, which becomes the write's condition."""
    key: dict[str, Any] = {}
    rest: list[ast.Expr] = []
    for term in conjuncts(where):
        found = key_equality(term, names)
        if found is not None and found[0] not in key:
            key[found[0]] = binder.constant(found[1])
        else:
            rest.append(term)
    if len(key) != len(names):
        raise ValidationException(PARTIQL_MANDATORY_KEY)
    return key, join_and(rest)
