"""Syntax tree of a PartiQL statement.

Expressions are one tree for conditions, values and SET right-hand sides, as in
PartiQL itself; the translation step decides what each position may hold.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

PathStep = Union[str, int]


@dataclass(frozen=True, slots=True)
class Path:
    steps: tuple[PathStep, ...]  # attribute name, then map keys (str) and list indexes (int)
    at: str = field(default="", compare=False)  # "line:column:length" of its first name, for messages


@dataclass(frozen=True, slots=True)
class Lit:
    """A literal as an AttributeValue ({"S": ...}); numbers keep their text."""
    value: dict


@dataclass(frozen=True, slots=True)
class Missing:
    """The MISSING literal."""


@dataclass(frozen=True, slots=True)
class Param:
    index: int  # 0-based position of the `?` in the statement


@dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class MapExpr:
    pairs: tuple[tuple[str, "Expr"], ...]


@dataclass(frozen=True, slots=True)
class SetExpr:
    """<<...>>: a string, number or binary set."""
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Call:
    name: str  # lower case
    args: tuple["Expr", ...]
    at: str = field(default="", compare=False)  # "line:column:length" of the name, for messages


@dataclass(frozen=True, slots=True)
class Binary:
    """Comparisons (= <> < <= > >=), AND, OR, and + - in SET values."""
    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class Between:
    operand: "Expr"
    low: "Expr"
    high: "Expr"
    negated: bool = False


@dataclass(frozen=True, slots=True)
class In:
    operand: "Expr"
    choices: tuple["Expr", ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Is:
    operand: "Expr"
    what: str  # MISSING, NULL, or the DynamoDB types a PartiQL type name stands for ("S", "SS NS BS"...)
    negated: bool = False


Expr = Union[Path, Lit, Missing, Param, ListExpr, MapExpr, SetExpr, Call, Binary, Not, Between, In, Is]


# --- statements ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Target:
    table: str
    index: str | None = None


@dataclass(frozen=True, slots=True)
class Select:
    target: Target
    projection: tuple[Path, ...] | None  # None: *
    where: Expr | None
    order_by: tuple[Path, bool] | None = None  # (path, ascending)


@dataclass(frozen=True, slots=True)
class Insert:
    target: Target
    item: MapExpr


@dataclass(frozen=True, slots=True)
class Assignment:
    """SET path = value, or REMOVE path (value None)."""
    path: Path
    value: Expr | None


@dataclass(frozen=True, slots=True)
class Update:
    target: Target
    assignments: tuple[Assignment, ...]
    where: Expr | None
    returning: str | None = None  # "ALL OLD", "MODIFIED OLD", "ALL NEW", "MODIFIED NEW"


@dataclass(frozen=True, slots=True)
class Delete:
    target: Target
    where: Expr | None
    returning: str | None = None


@dataclass(frozen=True, slots=True)
class Exists:
    """EXISTS(SELECT ...): a condition check inside ExecuteTransaction."""
    select: Select


Statement = Union[Select, Insert, Update, Delete, Exists]


def is_read(statement: Statement) -> bool:
    return isinstance(statement, Select)
