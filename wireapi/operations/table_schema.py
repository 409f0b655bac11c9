"""What CreateTable and UpdateTable's GSI creation share: the checks on key
schemas, projections and attribute definitions, and the description blocks of
indexes and throughput (here so that tables.py and index_updates.py need not
import each other)."""
from __future__ import annotations

from typing import Any

from django.conf import settings

from .. import errors

_INVALID = "One or more parameter values were invalid: "
MAX_GSIS = 20
MAX_LSIS = 5
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{settings.EXTENDDB_REGION}:{settings.EXTENDDB_ACCOUNT_ID}:table/{name}"


def throughput_description(spec: dict[str, Any] | None) -> dict[str, Any]:
    spec = spec or {}
    return {
        "NumberOfDecreasesToday": 0,
        "ReadCapacityUnits": spec.get("ReadCapacityUnits", 0),
        "WriteCapacityUnits": spec.get("WriteCapacityUnits", 0),
    }


def index_description(table_name: str, index: dict, *, global_index: bool, pay_per_request: bool) -> dict:
    out: dict[str, Any] = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index["Projection"],
        "IndexArn": f"{table_arn(table_name)}/index/{index['IndexName']}",
    }
    if global_index:
        out["IndexStatus"] = "ACTIVE"
        out["ProvisionedThroughput"] = throughput_description(
            None if pay_per_request else index.get("ProvisionedThroughput"))
        if pay_per_request and index.get("OnDemandThroughput"):
            out["OnDemandThroughput"] = on_demand_description(index["OnDemandThroughput"])
    return out


def on_demand_description(spec: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    """OnDemandThroughput as described: -1 for no maximum; a value left out keeps the current one."""
    current = current or {}
    return {name: spec.get(name, current.get(name, -1)) for name in ("MaxReadRequestUnits", "MaxWriteRequestUnits")}


# --- key schemas ------------------------------------------------------------------

def _coral_elements(key_schema: list[dict]) -> str:
    """A KeySchema as Coral echoes it in a constraint message."""
    return "[" + ", ".join(f"KeySchemaElement(attributeName={k['AttributeName']}, keyType={k['KeyType']})"
                           for k in key_schema) + "]"


def shape_problem(data: dict[str, Any]) -> errors.ValidationException | None:
    """What Coral's shape pass answers before any semantic check: CreateTable's
    KeySchema and AttributeDefinitions left out, a table's or an LSI's KeySchema
    longer than two elements (GSIs may have up to eight)."""
    missing = [name for name, key in (("attributeDefinitions", "AttributeDefinitions"), ("keySchema", "KeySchema"))
               if data.get(key) is None]
    if missing:
        return errors.coral_null(missing)
    if len(data["KeySchema"]) > 2:
        return errors.ValidationException(errors.key_schema_too_long(_coral_elements(data["KeySchema"]), "keySchema"))
    for position, index in enumerate(data.get("LocalSecondaryIndexes") or (), 1):
        if len(index["KeySchema"]) > 2:
            return errors.ValidationException(errors.key_schema_too_long(
                _coral_elements(index["KeySchema"]), f"localSecondaryIndexes.{position}.member.keySchema"))
    return None


def check_key_schema(key_schema: list[dict], defined: list[str]) -> str | None:
    """A table's or an LSI's KeySchema (one HASH, at most one RANGE), in
    DynamoDB's order of checks."""
    names = [k["AttributeName"] for k in key_schema]
    if any(n not in defined for n in names):
        return (_INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
                f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defined)}]")
    if len(names) == 2 and names[0] == names[1]:
        return "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    if key_schema[0]["KeyType"] != "HASH":
        return "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    if len(key_schema) > 1 and key_schema[1]["KeyType"] != "RANGE":
        return errors.key_element_not_range("second")
    return None


def check_gsi_key_schema(index_name: str, key_schema: list[dict], defined: list[str]) -> str | None:
    """A GSI's KeySchema: up to four HASH then up to four RANGE attributes
    (multi-attribute keys), each attribute once."""
    names = [k["AttributeName"] for k in key_schema]
    if any(n not in defined for n in names):
        return (_INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
                f"Keys: [{', '.join(names)}], AttributeDefinitions: [{', '.join(defined)}]")
    kinds = [k["KeyType"] for k in key_schema]
    if kinds == ["HASH", "RANGE"] and names[0] == names[1]:
        return "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return errors.duplicate_key_attribute(name)
        seen.add(name)
    if kinds[0] != "HASH":
        return "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    ranged = False
    for position, kind in enumerate(kinds):
        if kind == "RANGE":
            ranged = True
        elif ranged:
            ordinal = _ORDINALS[position] if position < len(_ORDINALS) else f"{position + 1}th"
            return errors.key_element_not_range(ordinal)
    for kind in ("HASH", "RANGE"):
        if kinds.count(kind) > errors.MAX_KEY_PART_ATTRIBUTES:
            return errors.too_many_key_attributes(index_name, kind)
    return None


def check_projection(index: dict) -> str | None:
    projection = index["Projection"]
    kind = projection.get("ProjectionType")
    if kind is None:
        return _INVALID + "Unknown ProjectionType: null"
    non_key = projection.get("NonKeyAttributes")
    if non_key and kind != "INCLUDE":
        return _INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is specified"
    if kind == "INCLUDE":
        if not non_key:
            return errors.INCLUDE_WITHOUT_NON_KEY_ATTRIBUTES
        seen: set[str] = set()
        for name in non_key:
            if name in seen:
                return errors.duplicate_non_key_attribute(name)
            seen.add(name)
    return None


def check_created_gsi(index: dict, defined: list[str]) -> str | None:
    """UpdateTable's GSI Create; `defined`: the request's own AttributeDefinitions,
    which must name every key attribute of the new index (the table's stored
    definitions do not count, as in DynamoDB)."""
    names = [k["AttributeName"] for k in index["KeySchema"]]
    if len(set(names)) > len(defined):
        return "Invalid KeySchema: Some index key attribute have no definition"
    return check_gsi_key_schema(index["IndexName"], index["KeySchema"], defined) or check_projection(index)
