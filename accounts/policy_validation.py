"""Checks an IAM policy document before it is saved (model clean(), the admin's
JSON editor, `manage.py putpolicy`).

validate_policy_document() returns every problem it finds, each naming where
it is ("Statement[1].Effect: ..."), so a broken document is refused with a
message the author can act on. The grammar is IAM's for identity-based
policies (no Principal). Besides the grammar it checks names (names=True, the
default): every dynamodb: action, wildcards included, must name at least one
real DynamoDB or DynamoDB Streams IAM action (`dynamodb:GetItm` is refused, not
silently useless), and every DynamoDB resource ARN must name a table, index,
stream, backup, export, import or global table (`…:tabel/T` is refused).
Policy evaluation (accounts.policy) checks the grammar only, so a stored
document written before these checks keeps its meaning.
"""
from __future__ import annotations

import ipaddress
import json
import re
from functools import cache
from typing import Any

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition")

# Condition operator -> value kind (how its policy values are checked and compared).
OPERATORS: dict[str, str] = {
    "StringEquals": "string", "StringNotEquals": "string",
    "StringEqualsIgnoreCase": "string", "StringNotEqualsIgnoreCase": "string",
    "StringLike": "string", "StringNotLike": "string",
    "NumericEquals": "numeric", "NumericNotEquals": "numeric",
    "NumericLessThan": "numeric", "NumericLessThanEquals": "numeric",
    "NumericGreaterThan": "numeric", "NumericGreaterThanEquals": "numeric",
    "DateEquals": "date", "DateNotEquals": "date",
    "DateLessThan": "date", "DateLessThanEquals": "date",
    "DateGreaterThan": "date", "DateGreaterThanEquals": "date",
    "Bool": "bool",
    "BinaryEquals": "binary",
    "IpAddress": "ip", "NotIpAddress": "ip",
    "ArnEquals": "string", "ArnNotEquals": "string", "ArnLike": "string", "ArnNotLike": "string",
    "Null": "bool",
}
SET_QUALIFIERS = ("ForAllValues:", "ForAnyValue:")

_ACTION = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+")
_SID = re.compile(r"[A-Za-z0-9]*")
_CONDITION_KEY = re.compile(r"[A-Za-z0-9-]+:[A-Za-z0-9_./*${}:-]+")


def split_operator(name: str) -> tuple[str | None, str, bool]:
    """'ForAllValues:StringLikeIfExists' -> ('ForAllValues', 'StringLike', True)."""
    qualifier = None
    for prefix in SET_QUALIFIERS:
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix):]
            break
    if_exists = name.endswith("IfExists") and name != "IfExists"
    if if_exists:
        name = name[: -len("IfExists")]
    return qualifier, name, if_exists


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_date(value: Any) -> float | None:
    """ISO 8601 (as IAM writes dates) or epoch seconds -> epoch seconds."""
    from datetime import datetime, timezone

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _strings(value: Any) -> list | None:
    """A policy element that is a string or a non-empty list of strings, as a list."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return value
    return None


def _check_value(kind: str, operator: str, value: Any) -> str | None:
    if isinstance(value, (dict, list)) or value is None:
        return "values must be strings, numbers or booleans"
    if kind == "numeric" and parse_number(value) is None:
        return f"{value!r} is not a number"
    if kind == "date" and parse_date(value) is None:
        return f"{value!r} is not a date (use ISO 8601, e.g. 2026-01-31T00:00:00Z)"
    if kind == "bool" and str(value).lower() not in ("true", "false"):
        return f"{value!r} is not true or false"
    if kind == "ip":
        try:
            ipaddress.ip_network(str(value), strict=False)
        except ValueError:
            return f"{value!r} is not an IP address or CIDR range"
    return None


def _check_condition(where: str, condition: Any) -> list[str]:
    if not isinstance(condition, dict) or not condition:
        return [f"{where}: Condition must be an object of operator -> {{key: value(s)}}"]
    problems = []
    for op_name, block in condition.items():
        qualifier, operator, if_exists = split_operator(op_name)
        if operator not in OPERATORS:
            problems.append(f"{where}.Condition: unknown condition operator {op_name!r}")
            continue
        if operator == "Null" and if_exists:
            problems.append(f"{where}.Condition: {op_name!r} is not allowed (Null has no IfExists form)")
        if not isinstance(block, dict) or not block:
            problems.append(f"{where}.Condition.{op_name}: must be an object of condition key -> value(s)")
            continue
        for key, values in block.items():
            if not _CONDITION_KEY.fullmatch(key):
                problems.append(f"{where}.Condition.{op_name}: {key!r} is not a condition key (service:name)")
            listed = values if isinstance(values, list) else [values]
            if not listed:
                problems.append(f"{where}.Condition.{op_name}.{key}: needs at least one value")
            for value in listed:
                problem = _check_value(OPERATORS[operator], operator, value)
                if problem:
                    problems.append(f"{where}.Condition.{op_name}.{key}: {problem}")
    return problems


def _check_statement(where: str, statement: Any, sids: set[str], names: bool = True) -> list[str]:
    if not isinstance(statement, dict):
        return [f"{where}: a statement must be an object"]
    problems = []
    for key in statement:
        if key in ("Principal", "NotPrincipal"):
            problems.append(f"{where}: {key} is not allowed in an identity-based policy")
        elif key not in STATEMENT_KEYS:
            problems.append(f"{where}: unknown element {key!r} (allowed: {', '.join(STATEMENT_KEYS)})")
    sid = statement.get("Sid")
    if sid is not None:
        if not isinstance(sid, str) or not _SID.fullmatch(sid):
            problems.append(f"{where}.Sid: use only letters and digits")
        elif sid and sid in sids:
            problems.append(f"{where}.Sid: duplicate Sid {sid!r}")
        else:
            sids.add(sid)
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        problems.append(f"{where}.Effect: must be \"Allow\" or \"Deny\" (got {effect!r})")
    for positive, negative, check in (("Action", "NotAction", _check_actions),
                                      ("Resource", "NotResource", _check_resources)):
        present = [k for k in (positive, negative) if k in statement]
        if len(present) != 1:
            problems.append(f"{where}: needs exactly one of {positive} or {negative}")
            continue
        problems.extend(check(f"{where}.{present[0]}", statement[present[0]], names))
    if "Condition" in statement:
        problems.extend(_check_condition(where, statement["Condition"]))
    return problems


def _check_actions(where: str, value: Any, names: bool) -> list[str]:
    actions = _strings(value)
    if actions is None:
        return [f"{where}: must be a string or a non-empty list of strings"]
    problems = []
    for a in actions:
        if a != "*" and not _ACTION.fullmatch(a):
            problems.append(f"{where}: {a!r} is not an action (\"service:Operation\", wildcards * and ? allowed, "
                            "or \"*\")")
        elif names and a != "*":
            problem = action_problem(a)
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def _check_resources(where: str, value: Any, names: bool) -> list[str]:
    resources = _strings(value)
    if resources is None:
        return [f"{where}: must be a string or a non-empty list of strings"]
    problems = []
    for r in resources:
        if r != "*" and not (r.startswith("arn:") and r.count(":") >= 5):
            problems.append(f"{where}: {r!r} is not an ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME) or \"*\"")
        elif names and r != "*":
            problem = resource_problem(r)
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


# --- names: the real action list and the shapes of DynamoDB ARNs -----------------
# IAM actions that are no API operation of their own (the Service Authorization
# Reference's permission-only actions for DynamoDB).
PERMISSION_ONLY_ACTIONS = (
    "ConditionCheckItem", "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate", "PartiQLDelete",
    "CreateTableReplica", "DeleteTableReplica", "AssociateTableReplica", "ReplicateSettings",
    "UpdateGlobalTableVersion", "DescribeReservedCapacity", "DescribeReservedCapacityOfferings",
    "PurchaseReservedCapacityOfferings", "StartAwsBackupJob", "RestoreTableFromAwsBackup",
    "GetAbacStatus", "UpdateAbacStatus",
)
# API operations that IAM authorises as other actions: naming them grants nothing.
NOT_ACTIONS = {
    "ExecuteStatement": "PartiQL statements are authorised as dynamodb:PartiQLSelect, PartiQLInsert, "
                        "PartiQLUpdate or PartiQLDelete",
    "BatchExecuteStatement": "PartiQL statements are authorised as dynamodb:PartiQLSelect, PartiQLInsert, "
                             "PartiQLUpdate or PartiQLDelete",
    "ExecuteTransaction": "PartiQL statements are authorised as dynamodb:PartiQLSelect, PartiQLInsert, "
                          "PartiQLUpdate or PartiQLDelete",
    "TransactWriteItems": "each item of a transaction is authorised as dynamodb:PutItem, UpdateItem, "
                          "DeleteItem or ConditionCheckItem",
    "TransactGetItems": "each item of a transaction is authorised as dynamodb:GetItem",
}
# What may follow table/NAME/ in a DynamoDB ARN.
TABLE_SUBRESOURCES = ("index", "stream", "backup", "export", "import")


@cache
def dynamodb_actions() -> tuple[str, ...]:
    """Every DynamoDB IAM action name (without the prefix): the API operations of the
    DynamoDB and DynamoDB Streams models shipped in botocore, plus the permission-only ones."""
    import botocore.session

    session = botocore.session.get_session()
    operations = {op for service in ("dynamodb", "dynamodbstreams")
                  for op in session.get_service_model(service).operation_names}
    return tuple(sorted((operations - set(NOT_ACTIONS)) | set(PERMISSION_ONLY_ACTIONS)))


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


def action_problem(action: str) -> str | None:
    """Why a "service:Action" names no real action, or None. Only dynamodb: is known here;
    other services' actions never apply to a request of this server and pass."""
    service, _, name = action.partition(":")
    if service.lower() != "dynamodb":
        return None
    if name in NOT_ACTIONS:
        return f"{action!r} is not an IAM action: {NOT_ACTIONS[name]}"
    regex = _glob(name)
    if any(regex.fullmatch(known) for known in dynamodb_actions()):
        return None
    close = [a for a in dynamodb_actions() if a.lower()[:4] == name.lower()[:4]][:3]
    hint = f" (did you mean {', '.join('dynamodb:' + c for c in close)}?)" if close else ""
    return f"{action!r} matches no DynamoDB action{hint}"


def _could_be(segment: str, *words: str) -> bool:
    """Whether an ARN segment (wildcards and ${variables} allowed) can stand for one of words."""
    if "${" in segment:
        return True
    regex = _glob(segment)
    return any(regex.fullmatch(w) for w in words)


def resource_problem(arn: str) -> str | None:
    """Why a DynamoDB ARN names nothing DynamoDB has, or None (other services' ARNs pass)."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5]
    if service.lower() != "dynamodb":
        return None  # another service's ARN, or a wildcard service: nothing to hold it against
    if resource == "":
        return f"{arn!r}: the resource part is missing (table/NAME)"
    pieces = resource.split("/")
    kind = pieces[0]
    if "*" in kind and len(pieces) == 1:
        return None  # e.g. arn:aws:dynamodb:*:*:*
    if not _could_be(kind, "table", "global-table"):
        return (f"{arn!r}: {kind!r} is no DynamoDB resource type (table/NAME, table/NAME/index/INDEX, "
                "table/NAME/stream/LABEL, table/NAME/backup/ID, table/NAME/export/ID, table/NAME/import/ID, "
                "global-table/NAME)")
    if len(pieces) < 2 or pieces[1] == "":
        return f"{arn!r}: the {kind} name is missing"
    if len(pieces) >= 3 and kind.lower() == "table" and not _could_be(pieces[2], *TABLE_SUBRESOURCES):
        return (f"{arn!r}: {pieces[2]!r} is nothing a table has (index, stream, backup, export or import)")
    if len(pieces) == 3 and kind.lower() == "table" and "*" not in pieces[2]:
        return f"{arn!r}: the {pieces[2]} name is missing (table/NAME/{pieces[2]}/NAME)"
    return None


def validate_policy_document(doc: Any, *, names: bool = True) -> list[str]:
    """Every problem of an IAM policy document (a JSON string or parsed JSON); [] if valid.
    names=False checks the grammar only (what evaluation needs)."""
    if isinstance(doc, (str, bytes)):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            return [f"The policy is not valid JSON: {exc}"]
    if not isinstance(doc, dict):
        return ["The policy must be a JSON object with Version and Statement"]
    problems = [f"Unknown top-level element {key!r} (allowed: Version, Id, Statement)"
                for key in doc if key not in ("Version", "Id", "Statement")]
    if "Version" in doc and doc["Version"] not in VERSIONS:
        problems.append(f"Version: must be \"2012-10-17\" or \"2008-10-17\" (got {doc['Version']!r})")
    if "Id" in doc and not isinstance(doc["Id"], str):
        problems.append("Id: must be a string")
    statements = doc.get("Statement")
    if statements is None:
        problems.append("Statement: missing")
        return problems
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        problems.append("Statement: must be an object or a non-empty list of objects")
        return problems
    sids: set[str] = set()
    for i, statement in enumerate(statements):
        problems.extend(_check_statement(f"Statement[{i}]", statement, sids, names))
    return problems
