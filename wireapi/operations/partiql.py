"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction (PartiQL).

Parsing and translation live in wireapi.partiql; reads run through the Query /
Scan page loop and writes through items.write_item / write_many."""
from __future__ import annotations

from typing import Any

from extenddb_site import metrics

from .. import capacity, errors, throttle, values
from ..dispatch import Request
from ..partiql import ast, parse
from ..partiql.reads import PreparedGet, prepare_get, prepare_select, run_select
from ..partiql.translate import check_parameter_numbers
from ..partiql.writes import prepare_write
from .items import PreparedWrite, run_write_limited, run_write_redone, write_need, write_response, written_units
from .transact import admit_writes, check_distinct, check_token, commit_writes, read_snapshot

def _parameters(given: list[Any] | None, expected: int) -> list[dict[str, Any]]:
    if len(given or ()) != expected:
        raise errors.ValidationException(errors.PARTIQL_PARAMETER_COUNT)
    for av in given or ():
        check_parameter_numbers(av)
    return [values.validate_value(av) for av in given or ()]


def _parsed(entry: dict[str, Any]) -> tuple[ast.Statement, list[dict[str, Any]]]:
    stmt, count = parse(entry["Statement"])
    return stmt, _parameters(entry.get("Parameters"), count)


# --- ExecuteStatement -------------------------------------------------------------

async def execute_statement(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    stmt, params = _parsed(data)
    if isinstance(stmt, ast.Select):
        plan = await prepare_select(req, data["Statement"], stmt, params, data)
        return await run_select(req, plan, data.get("NextToken"))
    if isinstance(stmt, ast.Exists):
        raise errors.partiql_unsupported("EXISTS is only supported in ExecuteTransaction")
    write = await prepare_write(req, stmt, params, data)
    outcome, units = await run_write_limited(req, write)
    response = write_response(data, write, outcome, units)
    out: dict[str, Any] = {"Items": [response["Attributes"]] if "Attributes" in response else []}
    if "ConsumedCapacity" in response:
        out["ConsumedCapacity"] = response["ConsumedCapacity"]
    return out


# --- BatchExecuteStatement -----------------------------------------------------------

def _error_entry(exc: errors.DynamoDBError) -> dict[str, Any]:
    error: dict[str, Any] = {"Code": errors.short_code(exc), "Message": exc.message}
    if "Item" in exc.extra:
        error["Item"] = exc.extra["Item"]
    return {"Error": error}


async def batch_execute_statement(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    entries = data["Statements"]
    parsed: list[tuple[ast.Statement, list[dict[str, Any]]] | errors.DynamoDBError] = []
    for entry in entries:
        try:
            parsed.append(_parsed(entry))
        except errors.DynamoDBError as exc:  # reported for that statement; the others still run
            parsed.append(exc)
    if len({ast.is_read(p[0]) for p in parsed if not isinstance(p, errors.DynamoDBError)}) > 1:
        raise errors.ValidationException(errors.PARTIQL_BATCH_MIXED)

    prepared: list[PreparedGet | PreparedWrite | errors.DynamoDBError] = []
    for entry, item in zip(entries, parsed):
        if isinstance(item, errors.DynamoDBError):
            prepared.append(item)
            continue
        stmt, params = item
        try:
            if isinstance(stmt, ast.Select):
                prepared.append(await prepare_get(req, stmt, params, "BatchExecuteStatement"))
            elif isinstance(stmt, ast.Exists):
                raise errors.partiql_unsupported("EXISTS is only supported in ExecuteTransaction")
            else:
                prepared.append(await prepare_write(req, stmt, params, entry))
        except errors.DynamoDBError as exc:
            prepared.append(exc)
    seen: set[tuple[int, bytes, bytes]] = set()
    for p in prepared:
        if not isinstance(p, errors.DynamoDBError):
            if (p.table.id, p.pk, p.sk) in seen:
                raise errors.ValidationException(errors.PARTIQL_BATCH_DUPLICATES)
            seen.add((p.table.id, p.pk, p.sk))

    responses: list[dict[str, Any]] = []
    units: dict[str, float] = {}
    for n, (entry, p) in enumerate(zip(entries, prepared)):
        if isinstance(p, errors.DynamoDBError):
            responses.append(_error_entry(p))
            continue
        try:
            if isinstance(p, PreparedGet):
                consistent = bool(entry.get("ConsistentRead"))
                need = capacity.read_units(0, consistent)
                limit = throttle.check_read(p.table, None, need)  # a throttled statement is an error entry
                raw = await req.reader(consistent).get_item(p.table.id, p.pk, p.sk)
                used = capacity.read_units_of_body(raw, consistent)
                if limit is not None:
                    throttle.charge(limit, used - need)
                metrics.consumed(p.table.name, read_units=used)
                units[p.table.name] = units.get(p.table.name, 0.0) + used
                response: dict[str, Any] = {"TableName": p.table.name}
                found = p.result(raw)
                if found is not None:
                    response["Item"] = found
            else:
                stmt, params = parsed[n]  # type: ignore[misc]
                need = write_need(p)
                limits = throttle.check_write(p.table, need)
                p, outcome = await run_write_redone(
                    req, p, lambda: prepare_write(req, stmt, params, entry))  # noqa: B023 - awaited here
                used = written_units(p, outcome)
                throttle.charge_write(limits, p.table, used, need, outcome.old, outcome.new)
                metrics.consumed(p.table.name, write_units=used)
                units[p.table.name] = units.get(p.table.name, 0.0) + used
                response = {"TableName": p.table.name}
                returned = write_response({}, p, outcome).get("Attributes")  # RETURNING
                if returned is not None:
                    response["Item"] = returned
        except errors.DynamoDBError as exc:
            response = _error_entry(exc)
        responses.append(response)
    out: dict[str, Any] = {"Responses": responses}
    consumed = capacity.per_table(data, units)
    if consumed:
        out["ConsumedCapacity"] = consumed
    return out


# --- ExecuteTransaction ---------------------------------------------------------------

def _in_statement(index: int, exc: errors.DynamoDBError) -> errors.DynamoDBError:
    if isinstance(exc, errors.ValidationException):
        return errors.partiql_in_statement(index, exc.message)
    return exc


async def execute_transaction(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    request_hash, previous = await check_token(req, data)
    if previous is not None:
        return previous

    entries = data["TransactStatements"]
    parsed = []
    for i, entry in enumerate(entries):
        try:
            stmt, params = _parsed(entry)
        except errors.DynamoDBError as exc:
            raise _in_statement(i, exc) from None
        if getattr(stmt, "returning", None) is not None:
            raise errors.partiql_in_statement(i, errors.PARTIQL_RETURNING_IN_TRANSACTION)
        parsed.append((stmt, params))
    reads = sum(ast.is_read(stmt) for stmt, _ in parsed)
    if 0 < reads < len(parsed):
        raise errors.ValidationException(errors.PARTIQL_TRANSACTION_MIXED)
    if reads:
        return await _read_transaction(req, data, parsed)

    writes: list[PreparedWrite] = []
    for i, (entry, (stmt, params)) in enumerate(zip(entries, parsed)):
        try:
            writes.append(await prepare_write(req, stmt, params, entry))
        except errors.ValidationException as exc:
            raise (_in_statement(i, exc) if exc.message == errors.PARTIQL_EXISTS_NEEDS_CONDITION else exc) from None
    check_distinct(writes)
    admitted = admit_writes(writes)
    response: dict[str, Any] = {"Responses": []}  # DynamoDB lists no per-statement entries for writes
    await commit_writes(req, data, writes, admitted, request_hash, response)
    return response


async def _read_transaction(req: Request, data: dict[str, Any], parsed: list[Any]) -> dict[str, Any]:
    gets = []
    for i, (stmt, params) in enumerate(parsed):
        try:
            gets.append(await prepare_get(req, stmt, params, "ExecuteTransaction"))
        except errors.DynamoDBError as exc:
            raise _in_statement(i, exc) from None
    check_distinct(gets)
    return await read_snapshot(req, data, gets, lambda i, item: gets[i].project(item))


HANDLERS = {
    "ExecuteStatement": execute_statement,
    "BatchExecuteStatement": batch_execute_statement,
    "ExecuteTransaction": execute_transaction,
}
