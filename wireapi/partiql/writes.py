"""INSERT, UPDATE, DELETE (and EXISTS checks in transactions) as PreparedWrites,
so they run through items.write_item / write_many like every other item write."""
from __future__ import annotations

from typing import Any

from wireapi import errors, expressions, indexes, values
from wireapi.dispatch import Request
from wireapi.keys import key_from_item, key_from_key_param
from wireapi.operations.items import PreparedWrite, check_condition
from wireapi.operations.tables import get_table

from . import ast
from .translate import Binder, bare, split_key

# RETURNING variants and the ReturnValues they mean.
RETURNING = {"ALL OLD": "ALL_OLD", "ALL NEW": "ALL_NEW", "MODIFIED OLD": "UPDATED_OLD", "MODIFIED NEW": "UPDATED_NEW"}


def _no_index(target: ast.Target) -> None:
    if target.index is not None:
        raise errors.partiql_unsupported("Writing to an index is not supported")


async def prepare_write(req: Request, stmt: ast.Statement, params: list[dict[str, Any]],
                        data: dict[str, Any]) -> PreparedWrite:
    """`data` is the statement's request part (its ReturnValuesOnConditionCheckFailure)."""
    if isinstance(stmt, ast.Insert):
        return await _insert(req, stmt, params)
    if isinstance(stmt, ast.Update):
        return await _update(req, stmt, params, data)
    if isinstance(stmt, ast.Delete):
        return await _delete(req, stmt, params, data)
    if isinstance(stmt, ast.Exists):
        return await _exists(req, stmt, params, data)
    raise TypeError(stmt)


async def _insert(req: Request, stmt: ast.Insert, params: list[dict[str, Any]]) -> PreparedWrite:
    _no_index(stmt.target)
    item = values.validate_item(Binder(params).item(stmt.item))
    values.check_item_size(item)
    table = await get_table(req, stmt.target.table)
    schema = table.extra["schema"]
    pk, sk = key_from_item(schema, item)
    indexes.check_index_keys(table.extra["indexes"], item)

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any], None]:
        if old is not None:
            raise errors.DuplicateItem()
        return item, None

    return PreparedWrite(table, pk, sk, {name: item[name] for name in schema.names}, decide)


async def _keyed(req: Request, target: ast.Target, where: ast.Expr | None, binder: Binder
                 ) -> tuple[Any, dict[str, Any], ast.Expr | None, bytes, bytes]:
    _no_index(target)
    table = await get_table(req, target.table)
    schema = table.extra["schema"]
    key, rest = split_key(where, schema.names, binder)
    pk, sk = key_from_key_param(schema, key)
    return table, key, rest, pk, sk


def _condition(binder: Binder, rest: ast.Expr | None) -> str | None:
    return binder.condition(rest) if rest is not None else None


async def _update(req: Request, stmt: ast.Update, params: list[dict[str, Any]],
                  data: dict[str, Any]) -> PreparedWrite:
    binder = Binder(params)
    table, key, rest, pk, sk = await _keyed(req, stmt.target, stmt.where, binder)
    update_text = binder.update_expression(stmt.assignments)
    condition_text = _condition(binder, rest)
    attrs = binder.attributes()
    plan = bare(expressions.parse_update, update_text, attrs)
    condition = bare(expressions.parse_condition, condition_text, attrs) if condition_text else None
    expressions.check_key_not_updated(plan, table.extra["schema"].names)

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any], Any]:
        if old is None:  # UPDATE never creates an item
            raise errors.ConditionalCheckFailed()
        check_condition(condition, old, data)
        result = expressions.apply_update(plan, old, key)
        indexes.check_index_keys(table.extra["indexes"], result.item)
        values.check_item_size(result.item)
        return result.item, result.updated_paths

    return PreparedWrite(table, pk, sk, key, decide, RETURNING.get(stmt.returning or "", "NONE"))


async def _delete(req: Request, stmt: ast.Delete, params: list[dict[str, Any]],
                  data: dict[str, Any]) -> PreparedWrite:
    if stmt.returning not in (None, "ALL OLD"):
        raise errors.partiql_unsupported("DELETE only supports RETURNING ALL OLD *")
    binder = Binder(params)
    table, key, rest, pk, sk = await _keyed(req, stmt.target, stmt.where, binder)
    condition_text = _condition(binder, rest)
    condition = bare(expressions.parse_condition, condition_text, binder.attributes()) if condition_text else None

    def decide(old: dict[str, Any] | None) -> tuple[None, None]:
        check_condition(condition, old, data)
        return None, None

    return PreparedWrite(table, pk, sk, key, decide, RETURNING.get(stmt.returning or "", "NONE"))


async def _exists(req: Request, stmt: ast.Exists, params: list[dict[str, Any]],
                  data: dict[str, Any]) -> PreparedWrite:
    binder = Binder(params)
    table, key, rest, pk, sk = await _keyed(req, stmt.select.target, stmt.select.where, binder)
    if rest is None:
        raise errors.ValidationException(errors.PARTIQL_EXISTS_NEEDS_CONDITION)
    condition_text = _condition(binder, rest)
    condition = bare(expressions.parse_condition, condition_text, binder.attributes()) if condition_text else None

    def decide(old: dict[str, Any] | None) -> tuple[dict[str, Any] | None, None]:
        if old is None:
            raise errors.ConditionalCheckFailed()
        check_condition(condition, old, data)
        return old, None

    return PreparedWrite(table, pk, sk, key, decide)
