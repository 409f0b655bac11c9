"""PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement, ExecuteTransaction.

tokens -> parser (ast) -> translate (DynamoDB expression texts with
placeholders, evaluated by wireapi.expressions) -> reads / writes (run through
the same read loop and write path as Query, Scan and the item operations).
The operation handlers are in wireapi.operations.partiql.
"""
from __future__ import annotations

from . import ast
from .parser import parse

__all__ = ["parse", "statement_kind", "tables_of"]


def tables_of(statement: str) -> list[str]:
    """The tables a statement touches, for authorisation: ["Table"], or
    ["Table/index/Index"] for a read of a secondary index (the suffix of the
    index's ARN). Raises DynamoDB's ValidationException on a malformed statement."""
    stmt, _ = parse(statement)
    target = stmt.select.target if isinstance(stmt, ast.Exists) else stmt.target
    if target.index is not None:
        return [f"{target.table}/index/{target.index}"]
    return [target.table]


def statement_kind(statement: str) -> str:
    """SELECT, INSERT, UPDATE, DELETE or EXISTS (the IAM action PartiQL<Kind>;
    EXISTS checks need PartiQLSelect). `FROM "T" WHERE ... SET ...` is an UPDATE.
    Raises DynamoDB's ValidationException on a malformed statement."""
    stmt, _ = parse(statement)
    return type(stmt).__name__.upper()
