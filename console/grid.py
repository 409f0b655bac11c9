"""Items as an attribute grid: one column per attribute present, typed cells,
nested values (maps, lists, sets) expandable in place."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from . import tokens

_PREVIEW = 80  # characters of a long string or binary shown in the cell
_TYPE_NAMES = {"S": "String", "N": "Number", "B": "Binary", "BOOL": "Boolean", "NULL": "Null", "M": "Map",
               "L": "List", "SS": "String set", "NS": "Number set", "BS": "Binary set"}


@dataclass
class Cell:
    kind: str  # the DynamoDB type (S, N, M, …), "" for an attribute the item lacks
    text: str = ""
    children: list[tuple[str, "Cell"]] = field(default_factory=list)  # nested values, labelled

    @property
    def nested(self) -> bool:
        return self.kind in ("M", "L", "SS", "NS", "BS")

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES.get(self.kind, "")


def _binary_text(value: str) -> str:
    try:
        size = len(base64.b64decode(value))
    except ValueError:
        size = len(value)
    shown = value if len(value) <= _PREVIEW else value[:_PREVIEW] + "…"
    return f"{shown} ({size} bytes)"


def cell(value: Any) -> Cell:
    if not isinstance(value, dict) or len(value) != 1:
        return Cell("?", repr(value))
    (kind, inner), = value.items()
    if kind == "S":
        return Cell(kind, inner)
    if kind == "N":
        return Cell(kind, inner)
    if kind == "B":
        return Cell(kind, _binary_text(inner))
    if kind == "BOOL":
        return Cell(kind, "true" if inner else "false")
    if kind == "NULL":
        return Cell(kind, "null")
    if kind == "M":
        return Cell(kind, f"{{{len(inner)} attribute{'s' if len(inner) != 1 else ''}}}",
                    [(name, cell(v)) for name, v in sorted(inner.items())])
    if kind == "L":
        return Cell(kind, f"[{len(inner)} element{'s' if len(inner) != 1 else ''}]",
                    [(str(i), cell(v)) for i, v in enumerate(inner)])
    if kind in ("SS", "NS", "BS"):
        member = "B" if kind == "BS" else kind[0]
        return Cell(kind, f"<{len(inner)} in set>", [("", cell({member: v})) for v in inner])
    return Cell(kind, str(inner))


@dataclass
class Grid:
    columns: list[str]
    key_columns: int  # how many leading columns are the key
    rows: list[dict[str, Any]]  # {"token": key token, "cells": [Cell…], "item": item}


def columns_of(items: list[dict[str, Any]], key_names: list[str]) -> list[str]:
    """Key attributes first, then every other attribute present, alphabetically."""
    others = sorted({name for item in items for name in item} - set(key_names))
    return [n for n in key_names] + others


def build(items: list[dict[str, Any]], key_names: list[str]) -> Grid:
    columns = columns_of(items, key_names)
    rows = []
    for item in items:
        key = {n: item[n] for n in key_names if n in item}
        rows.append({"token": tokens.encode(key) if len(key) == len(key_names) else "",
                     "cells": [cell(item[c]) if c in item else Cell("") for c in columns], "item": item})
    return Grid(columns, len(key_names), rows)


def plain_cell(value: dict[str, Any]) -> str:
    """A value as one CSV cell: scalars as text, nested values as compact DynamoDB JSON."""
    import orjson

    (kind, inner), = value.items()
    if kind in ("S", "N", "B"):
        return inner
    if kind == "BOOL":
        return "true" if inner else "false"
    if kind == "NULL":
        return ""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
