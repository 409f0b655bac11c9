"""Authorisation of data-plane requests against the caller's IAM policies.

For every request this works out what IAM would check for DynamoDB: one or
more (action, resource ARN) pairs — BatchWriteItem is dynamodb:BatchWriteItem
on each table, TransactWriteItems is dynamodb:PutItem/UpdateItem/DeleteItem/
ConditionCheckItem per item, a Query on an index is checked against the
index's ARN — and a condition context (aws:SourceIp, dynamodb:LeadingKeys…).
Each pair is evaluated with accounts.policy; the first one not allowed fails
the request with AccessDeniedException, worded as DynamoDB words it.

Cost: the user's policies are compiled once per worker (wireapi.credentials).
A user whose policies allow everything unconditionally (AdministratorAccess)
is let through before any of this; costly context keys (LeadingKeys needs the
key schema, Attributes scans expressions) are computed only when one of the
user's policies tests them.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from typing import Any

from django.conf import settings

from accounts.policy import Decision, PolicySet

from . import errors

log = logging.getLogger("extenddb.wireapi")

LEADING_KEYS = "dynamodb:leadingkeys"
ATTRIBUTES = "dynamodb:attributes"

# Operations IAM authorises against no particular resource.
_UNSCOPED = frozenset({
    "DescribeLimits", "DescribeEndpoints", "ListBackups", "ListGlobalTables", "ListContributorInsights",
    "ListExports", "ListImports", "ListBulkOperations", "ListStreams",
})
_TRANSACT_ACTIONS = {"ConditionCheck": "dynamodb:ConditionCheckItem", "Put": "dynamodb:PutItem",
                     "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem", "Get": "dynamodb:GetItem"}
_PARTIQL_ACTIONS = {"SELECT": "dynamodb:PartiQLSelect", "EXISTS": "dynamodb:PartiQLSelect",
                    "INSERT": "dynamodb:PartiQLInsert", "UPDATE": "dynamodb:PartiQLUpdate",
                    "DELETE": "dynamodb:PartiQLDelete"}
_ARN_PREFIX = "arn:"


@dataclass
class Check:
    """One (action, resource) pair to authorise, with the part of the request it covers."""

    action: str
    resource: str
    table: str | None = None  # table name, for key-schema lookups
    index: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)  # request fragments: Key/Item/expressions
    # "read"/"query"/"scan" (dynamodb:Select applies), "write", "opaque" (PartiQL: keys and
    # attributes not worked out), "unsupported" (no PartiQL parser) or "" (no items involved)
    kind: str = ""


@cache
def _ids() -> tuple[str, str]:
    """(region, account): read once per process, off the per-request path."""
    return settings.EXTENDDB_REGION, settings.EXTENDDB_ACCOUNT_ID


def _arn(resource: str) -> str:
    region, account = _ids()
    return f"arn:aws:dynamodb:{region}:{account}:{resource}"


def _table_name(name_or_arn: str) -> str:
    if name_or_arn.startswith(_ARN_PREFIX):
        return name_or_arn.partition(":table/")[2].split("/", 1)[0]
    return name_or_arn


def _table_arn(name_or_arn: str) -> str:
    return name_or_arn if name_or_arn.startswith(_ARN_PREFIX) else _arn(f"table/{name_or_arn}")


# --- what each operation touches ---------------------------------------------------
def _item_checks(operation: str, data: dict[str, Any]) -> Iterator[Check]:
    action = f"dynamodb:{operation}"
    name = data.get("TableName")
    if operation in ("BatchGetItem", "BatchWriteItem"):
        for table, request in (data.get("RequestItems") or {}).items():
            if operation == "BatchGetItem":
                keys = request.get("Keys") or []
                shared = {k: request[k] for k in ("ProjectionExpression", "AttributesToGet",
                                                  "ExpressionAttributeNames") if k in request}
                parts = [{"Key": key, **shared} for key in keys] or [shared]
                yield Check(action, _table_arn(table), _table_name(table), None, parts, "read")
            else:
                parts = []
                for write in request:
                    if "PutRequest" in write:
                        parts.append({"Item": write["PutRequest"].get("Item") or {}})
                    elif "DeleteRequest" in write:
                        parts.append({"Key": write["DeleteRequest"].get("Key") or {}})
                yield Check(action, _table_arn(table), _table_name(table), None, parts, "write")
        return
    if operation in ("TransactWriteItems", "TransactGetItems"):
        for entry in data.get("TransactItems") or []:
            for kind, request in entry.items():
                table = request.get("TableName", "")
                yield Check(_TRANSACT_ACTIONS.get(kind, f"dynamodb:{kind}"), _table_arn(table), _table_name(table),
                            None, [request], "read" if kind == "Get" else "write")
        return
    if operation in ("Query", "Scan"):
        index = data.get("IndexName")
        resource = _table_arn(name) + (f"/index/{index}" if index else "")
        yield Check(action, resource, _table_name(name), index, [data], "query" if operation == "Query" else "scan")
        return
    kind = "read" if operation == "GetItem" else "write"
    yield Check(action, _table_arn(name), _table_name(name), None, [data], kind)


def _statements(operation: str, data: dict[str, Any]) -> list[str]:
    if operation == "ExecuteStatement":
        return [data.get("Statement", "")]
    if operation == "BatchExecuteStatement":
        return [s.get("Statement", "") for s in data.get("Statements") or []]
    return [s.get("Statement", "") for s in data.get("TransactStatements") or []]


def _partiql_checks(operation: str, data: dict[str, Any]) -> Iterator[Check]:
    try:
        from .partiql import statement_kind, tables_of  # absent means deny
    except ImportError:
        yield Check(f"dynamodb:{operation}", "*", kind="unsupported")
        return
    for statement in _statements(operation, data):
        # The parsed kind, not the first word: `FROM "T" WHERE … SET …` is an UPDATE.
        action = _PARTIQL_ACTIONS.get(statement_kind(statement), "dynamodb:PartiQLSelect")
        for target in tables_of(statement):  # raises DynamoDB's ValidationException when malformed
            yield Check(action, _arn(f"table/{target}"), target.split("/", 1)[0], None, [], "opaque")


def checks_for(service: str, operation: str, data: dict[str, Any]) -> list[Check]:
    """The (action, resource) pairs IAM checks for this request."""
    if service == "dynamodbstreams":
        action = f"dynamodb:{operation}"
        if operation == "ListStreams":
            return [Check(action, "*")]
        # GetRecords names no stream: authorize() resolves its iterator (_iterator_stream_arn).
        return [Check(action, data.get("StreamArn") or "*")]
    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                     "BatchWriteItem", "TransactGetItems", "TransactWriteItems"):
        return list(_item_checks(operation, data))
    if operation in ("ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"):
        return list(_partiql_checks(operation, data))
    action = f"dynamodb:{operation}"
    if operation == "ListTables":
        return [Check(action, _arn("table/*"))]
    if operation in _UNSCOPED:
        return [Check(action, "*")]
    if "ResourceArn" in data:  # tags, resource policies
        return [Check(action, data["ResourceArn"])]
    if operation in ("DescribeBackup", "DeleteBackup"):
        return [Check(action, data.get("BackupArn", "*"))]
    if operation == "RestoreTableFromBackup":
        return [Check(action, data.get("BackupArn", "*")),
                Check(action, _table_arn(data.get("TargetTableName", "")))]
    if operation == "RestoreTableToPointInTime":
        source = data.get("SourceTableArn") or _table_arn(data.get("SourceTableName", ""))
        return [Check(action, source), Check(action, _table_arn(data.get("TargetTableName", "")))]
    if operation == "ExportTableToPointInTime":
        return [Check(action, data.get("TableArn", "*"))]
    if operation == "DescribeExport":
        return [Check(action, data.get("ExportArn", "*"))]
    if operation == "DescribeImport":
        return [Check(action, data.get("ImportArn", "*"))]
    if operation == "ImportTable":
        table = (data.get("TableCreationParameters") or {}).get("TableName", "")
        return [Check(action, _table_arn(table))]
    if "GlobalTableName" in data:
        return [Check(action, f"arn:aws:dynamodb::{_ids()[1]}:global-table/"
                              f"{data['GlobalTableName']}")]
    if isinstance(data.get("TableName"), str):
        return [Check(action, _table_arn(data["TableName"]))]
    return [Check(action, "*")]


# --- condition context -------------------------------------------------------------
_VALUE_PLACEHOLDER = re.compile(r":[A-Za-z0-9_]+")
# A path's first element: a name not following "." or "]" and not a function call.
_PATH_START = re.compile(r"(?<![\w.\]#])(#[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*)(?!\s*\(|[A-Za-z0-9_])")
_KEYWORDS = frozenset({"and", "or", "not", "between", "in", "set", "remove", "add", "delete"})
_EXPRESSIONS = ("ProjectionExpression", "UpdateExpression", "ConditionExpression", "FilterExpression",
                "KeyConditionExpression")
_NAME_LISTS = ("AttributesToGet",)
_NAME_MAPS = ("Key", "Item", "AttributeUpdates", "Expected", "QueryFilter", "ScanFilter", "KeyConditions")


def attribute_names(part: dict[str, Any]) -> set[str]:
    """Top-level attribute names a request (or one item of a batch) reads or writes."""
    names: set[str] = set()
    for field_name in _NAME_MAPS:
        value = part.get(field_name)
        if isinstance(value, dict):
            names.update(value)
    for field_name in _NAME_LISTS:
        value = part.get(field_name)
        if isinstance(value, list):
            names.update(v for v in value if isinstance(v, str))
    placeholders = part.get("ExpressionAttributeNames") or {}
    for field_name in _EXPRESSIONS:
        text = part.get(field_name)
        if not isinstance(text, str):
            continue
        for token in _PATH_START.findall(_VALUE_PLACEHOLDER.sub(" ", text)):
            if token.startswith("#"):
                names.add(placeholders.get(token, token))
            elif token.lower() not in _KEYWORDS:
                names.add(token)
    return names


def _key_text(value: Any) -> str | None:
    """A key attribute value as IAM sees it: the string, number or base64 text."""
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, str):
            return inner
    return None


async def _leading_keys(req: Any, check: Check) -> tuple[str, ...] | None:
    """Partition-key values the check's request parts touch; None when there are none to name."""
    if check.kind in ("scan", "opaque", "unsupported", "") or not check.table:
        return None
    table = await req.runtime.catalog.get(check.table)
    if table is None:
        return None  # the operation reports the missing table
    if check.kind == "query":
        from . import expressions

        data = check.parts[0]
        schema = table.extra["schema"]
        if check.index is not None:
            index = next((i for i in table.extra["indexes"] if i.name == check.index), None)
            if index is None:
                return None
            schema = index.schema
        if data.get("KeyConditionExpression") is not None:
            key_condition = expressions.compile_expressions(data).key_condition
        elif data.get("KeyConditions") is not None:
            key_condition = expressions.key_condition_from_key_conditions(data["KeyConditions"])
        else:
            return None
        kq = key_condition.for_key_schema(schema)
        text = _key_text(kq.hash_value)
        return (text,) if text is not None else ()
    hash_name = table.extra["schema"].hash_name
    found = []
    for part in check.parts:
        source = part.get("Key") if part.get("Key") is not None else part.get("Item")
        if isinstance(source, dict):
            text = _key_text(source.get(hash_name))
            if text is not None and text not in found:
                found.append(text)
    return tuple(found)


def _select(check: Check) -> str | None:
    """dynamodb:Select: as given, else what the read returns by default."""
    if check.kind not in ("read", "query", "scan") or not check.parts:
        return None
    data = check.parts[0]
    if data.get("Select"):
        return data["Select"]
    if data.get("ProjectionExpression") is not None or data.get("AttributesToGet") is not None:
        return "SPECIFIC_ATTRIBUTES"
    return "ALL_PROJECTED_ATTRIBUTES" if check.index else "ALL_ATTRIBUTES"


def base_context(req: Any, data: dict[str, Any], wanted: frozenset[str]) -> dict[str, Any]:
    """Request-wide condition keys (lower-case names, string values)."""
    scope = req.scope or {}
    client = scope.get("client")
    user = req.credential.user_name
    region, account = _ids()
    context: dict[str, Any] = {
        "aws:username": user,
        "aws:principalarn": f"arn:aws:iam::{account}:user/{user}",
        "aws:principalaccount": account,
        "aws:principaltype": "User",
        "aws:securetransport": "true" if scope.get("scheme", "https") == "https" else "false",
        "aws:requestedregion": region,
    }
    if client:
        context["aws:sourceip"] = client[0]
    if "aws:currenttime" in wanted or "aws:epochtime" in wanted:  # only when tested: costs a clock read
        now = datetime.now(timezone.utc)
        context["aws:currenttime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        context["aws:epochtime"] = str(int(now.timestamp()))
    for name in ("ReturnValues", "ReturnConsumedCapacity"):
        if isinstance(data.get(name), str):
            context[f"dynamodb:{name.lower()}"] = data[name]
    return context


async def check_context(req: Any, check: Check, base: dict[str, Any], policies: PolicySet) -> dict[str, Any]:
    context = dict(base)
    if check.parts and isinstance(check.parts[0].get("ReturnValues"), str):
        context["dynamodb:returnvalues"] = check.parts[0]["ReturnValues"]
    select = _select(check)
    if select is not None:
        context["dynamodb:select"] = select
    wanted = policies.condition_keys
    if LEADING_KEYS in wanted:
        keys = await _leading_keys(req, check)
        if keys is not None:
            context[LEADING_KEYS] = keys
    if ATTRIBUTES in wanted and check.kind not in ("opaque", "unsupported", ""):
        names: set[str] = set()
        for part in check.parts:
            names |= attribute_names(part)
        context[ATTRIBUTES] = tuple(sorted(names))
    return context


async def _iterator_stream_arn(req: Any, iterator: str) -> str:
    """The stream a shard iterator reads, from its signed part (the ARN text in front
    of it is the client's to change, so it is not trusted)."""
    from . import streams

    decoded = streams.decode_iterator(iterator)  # DynamoDB's ValidationException if forged
    stream = await req.runtime.backend.load_stream(stream_id=decoded.stream_id)
    return stream.arn if stream is not None else "*"


# --- the decision ------------------------------------------------------------------
def denied_message(user_arn: str, action: str, resource: str, explicit: bool) -> str:
    head = f"User: {user_arn} is not authorized to perform: {action} on resource: {resource} "
    if explicit:
        return head + "with an explicit deny in an identity-based policy"
    return head + f"because no identity-based policy allows the {action} action"


async def authorize(req: Any, service: str, operation: str, data: dict[str, Any]) -> None:
    """Raise errors.AccessDenied unless the caller may perform `operation` on what `data` touches."""
    credential = req.credential
    req.runtime.credentials.note_use(credential.access_key_id)
    policies: PolicySet | None = credential.policies
    if policies is not None and policies.allows_everything:
        return
    user_arn = f"arn:aws:iam::{_ids()[1]}:user/{credential.user_name}"
    try:
        checks = checks_for(service, operation, data) or [Check(f"dynamodb:{operation}", "*")]
        if service == "dynamodbstreams" and operation == "GetRecords":
            checks[0].resource = await _iterator_stream_arn(req, data["ShardIterator"])
    except errors.DynamoDBError:
        raise  # malformed request (a PartiQL statement, an iterator): the operation would say the same
    except Exception:
        log.exception("could not work out what request %s touches; denying", req.request_id)
        raise errors.AccessDenied(denied_message(user_arn, f"dynamodb:{operation}", "*", False)) from None
    if policies is None:
        check = checks[0]
        raise errors.AccessDenied(denied_message(user_arn, check.action, check.resource, False))
    base = base_context(req, data, policies.condition_keys)
    fine_grained = bool(policies.condition_keys & {LEADING_KEYS, ATTRIBUTES})
    for check in checks:
        if check.kind == "unsupported" or (check.kind == "opaque" and fine_grained):
            # PartiQL without a parser here, or a statement whose keys and attributes are not
            # worked out: a row- or attribute-level policy cannot be honoured, so deny.
            raise errors.AccessDenied(denied_message(user_arn, check.action, check.resource, False))
        try:
            context = await check_context(req, check, base, policies)
        except errors.DynamoDBError:
            raise  # malformed request: the operation would say the same
        except Exception:
            log.exception("could not work out the policy context of request %s; denying", req.request_id)
            raise errors.AccessDenied(denied_message(user_arn, check.action, check.resource, False)) from None
        outcome = policies.evaluate(check.action, check.resource, context)
        if not outcome.allowed:
            raise errors.AccessDenied(denied_message(
                user_arn, check.action, check.resource, outcome.decision is Decision.EXPLICIT_DENY))

