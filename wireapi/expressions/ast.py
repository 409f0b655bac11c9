"""Syntax trees for condition, update and projection expressions.

The parser builds these with placeholders unresolved (NameRef / ValueRef) so one
tree can be cached per expression text; a per-request resolution pass produces
the same node types with plain names and Literal values.
`parens` counts the parentheses written directly around a node: DynamoDB
rejects doubled ones ("redundant parentheses").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True, slots=True)
class NameRef:
    """An unresolved #placeholder inside a document path."""
    name: str


PathElement = Union[str, int, NameRef]


@dataclass(frozen=True, slots=True)
class Path:
    elements: tuple[PathElement, ...]
    parens: int = 0


@dataclass(frozen=True, slots=True)
class ValueRef:
    """An unresolved :placeholder."""
    name: str
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Literal:
    """A resolved :placeholder: the attribute value itself."""
    value: dict
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Func:
    name: str
    args: tuple["Operand", ...]
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Arith:
    """`a + b` / `a - b` in an update SET value."""
    op: str
    left: "Operand"
    right: "Operand"
    parens: int = 0


Operand = Union[Path, ValueRef, Literal, Func, Arith]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand
    parens: int = 0


@dataclass(frozen=True, slots=True)
class In:
    operand: Operand
    choices: tuple[Operand, ...]
    parens: int = 0


@dataclass(frozen=True, slots=True)
class And:
    items: tuple["Condition", ...]
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple["Condition", ...]
    parens: int = 0


@dataclass(frozen=True, slots=True)
class Not:
    operand: "Condition"
    parens: int = 0


# A bare Func is a condition too (attribute_exists(a), begins_with(a, :v) ...).
Condition = Union[Compare, Between, In, And, Or, Not, Func]
LEAF_CONDITIONS = (Compare, Between, In, Func)


# --- update expressions -------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UpdateAction:
    """kind is SET, REMOVE, ADD or DELETE; value is None for REMOVE."""
    kind: str
    path: Path
    value: Operand | None = None


@dataclass(frozen=True, slots=True)
class UpdateAst:
    actions: tuple[UpdateAction, ...]
    sections: tuple[str, ...]  # clause keywords in order written, repeats kept


def path_str(path: tuple) -> str:
    """DynamoDB's rendering of a resolved path in messages: [a, [0], b]."""
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"
