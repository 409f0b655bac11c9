"""The Scan and Query builder: what the items page's form means as a request.

The form is a GET (pages are links: Previous and Next, exports and reloads
repeat the same read). Key condition fields follow the chosen key schema,
the table's or an index's: one field per partition key attribute (equality)
and per sort key attribute (equality for the leading ones, the chosen
operator for the last one filled in).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from . import tokens
from .values import parse_plain, parse_values, typed

PAGE_SIZES = (10, 25, 50, 100, 250)
DEFAULT_SIZE = 25
SORT_OPERATORS = [("=", "="), ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">="),
                  ("begins_with", "begins with"), ("between", "between")]
MAX_BACK = 50  # earlier pages remembered for Previous (the first page is always a link away)


@dataclass
class KeyField:
    name: str  # the form field: h0…h3, r0…r3
    attribute: str
    type: str
    value: str


@dataclass
class Schema:
    hash: list[tuple[str, str]]
    range: list[tuple[str, str]]


def schema_of(table: dict[str, Any], index: str) -> Schema:
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    key_schema = table["KeySchema"]
    for listed in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", []):
        if listed["IndexName"] == index:
            key_schema = listed["KeySchema"]
    return Schema([(k["AttributeName"], types.get(k["AttributeName"], "S")) for k in key_schema if k["KeyType"] == "HASH"],
                  [(k["AttributeName"], types.get(k["AttributeName"], "S")) for k in key_schema if k["KeyType"] == "RANGE"])


def index_names(table: dict[str, Any]) -> list[str]:
    return [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", [])]


def page_size(params: QueryDict) -> int:
    try:
        size = int(params.get("size", DEFAULT_SIZE))
    except ValueError:
        return DEFAULT_SIZE
    return size if size in PAGE_SIZES else DEFAULT_SIZE


def key_fields(schema: Schema, params: QueryDict) -> tuple[list[KeyField], list[KeyField]]:
    hash_fields = [KeyField(f"h{i}", n, t, params.get(f"h{i}", "")) for i, (n, t) in enumerate(schema.hash)]
    range_fields = [KeyField(f"r{i}", n, t, params.get(f"r{i}", "")) for i, (n, t) in enumerate(schema.range)]
    return hash_fields, range_fields


def _json_object(text: str, what: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = parse_plain(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{what} must be a JSON object of strings, such as {{\"#s\": \"status\"}}")
    return {k: str(v) for k, v in value.items()}


def read_request(table: dict[str, Any], params: QueryDict) -> tuple[str, dict[str, Any]]:
    """(Scan or Query, request) for the form's fields; ValueError names what is wrong."""
    name = table["TableName"]
    mode = "Query" if params.get("mode") == "query" else "Scan"
    index = params.get("index", "")
    data: dict[str, Any] = {"TableName": name, "Limit": page_size(params)}
    if index:
        data["IndexName"] = index
    names = _json_object(params.get("names", ""), "Names")
    try:
        values = parse_values(params.get("values", ""))
    except ValueError as exc:
        raise ValueError(f"Values: {exc}") from None
    if mode == "Query":
        condition, key_names, key_values = _key_condition(schema_of(table, index), params)
        data["KeyConditionExpression"] = condition
        names.update(key_names)
        values.update(key_values)
        if params.get("desc"):
            data["ScanIndexForward"] = False
    if params.get("filter", "").strip():
        data["FilterExpression"] = params["filter"].strip()
    if params.get("projection", "").strip():
        data["ProjectionExpression"] = params["projection"].strip()
    if params.get("consistent"):
        data["ConsistentRead"] = True
    if names:
        data["ExpressionAttributeNames"] = names
    if values:
        data["ExpressionAttributeValues"] = values
    start = tokens.decode(params.get("start"))
    if start:
        data["ExclusiveStartKey"] = start
    return mode, data


def _key_condition(schema: Schema, params: QueryDict) -> tuple[str, dict[str, str], dict[str, Any]]:
    hash_fields, range_fields = key_fields(schema, params)
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts = []
    for f in hash_fields:
        if not f.value:
            raise ValueError(f"A Query needs the partition key value ({f.attribute}).")
        names[f"#{f.name}"], values[f":{f.name}"] = f.attribute, typed(f.value, f.type)
        parts.append(f"#{f.name} = :{f.name}")
    filled = [f for f in range_fields if f.value]
    operator = params.get("rop", "=") or "="
    for position, f in enumerate(filled):
        names[f"#{f.name}"], values[f":{f.name}"] = f.attribute, typed(f.value, f.type)
        last = position == len(filled) - 1
        if not last or operator == "=":
            parts.append(f"#{f.name} = :{f.name}")
        elif operator == "begins_with":
            parts.append(f"begins_with(#{f.name}, :{f.name})")
        elif operator == "between":
            if not params.get("rto"):
                raise ValueError("between needs two values.")
            values[":rto"] = typed(params["rto"], f.type)
            parts.append(f"#{f.name} BETWEEN :{f.name} AND :rto")
        elif operator in ("<", "<=", ">", ">="):
            parts.append(f"#{f.name} {operator} :{f.name}")
        else:
            raise ValueError(f"Unknown sort key operator {operator!r}")
    return " AND ".join(parts), names, values


def page_links(params: QueryDict, last_key: dict[str, Any] | None) -> tuple[str | None, str | None, str]:
    """(previous, next, first) page query strings, keeping the form's fields."""
    back = params.getlist("back")
    start = params.get("start", "")
    base = params.copy()
    for k in ("start", "back", "export"):
        base.pop(k, None)
    first = base.urlencode()
    next_qs = prev_qs = None
    if last_key:
        q = base.copy()
        q.setlist("back", (back + [start])[-MAX_BACK:])
        q["start"] = tokens.encode(last_key)
        next_qs = q.urlencode()
    if start:
        q = base.copy()
        if back:
            q.setlist("back", back[:-1])
            if back[-1]:
                q["start"] = back[-1]
        prev_qs = q.urlencode()
    return prev_qs, next_qs, first
