"""CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable."""
from __future__ import annotations

import copy
import dataclasses
import time
import uuid
from typing import Any

from storage.backends.base import NewStream, TableExists, TableRecord

from .. import errors, pitr
from ..dispatch import Request
from . import index_updates
from . import tags as tags_ops  # CreateTable's Tags, DeleteTable's tags

from .table_schema import (MAX_GSIS, MAX_LSIS, check_gsi_key_schema, check_key_schema, check_projection,
                           index_description, shape_problem, table_arn, throughput_description)

_INVALID = "One or more parameter values were invalid: "


_DELETING_FIELDS = ("TableName", "TableStatus", "ProvisionedThroughput", "TableSizeBytes", "ItemCount",
                    "TableArn", "TableId", "BillingModeSummary", "DeletionProtectionEnabled")


def table_name_of(name_or_arn: str) -> str:
    """TableName parameters accept the table's ARN too."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.partition(":table/")[2].split("/", 1)[0]
    return name_or_arn


async def get_table(req: Request, name: str, *, named: bool = False) -> TableRecord:
    """The table, or ResourceNotFound (item operations do not name the table)."""
    name = table_name_of(name)
    record = await req.runtime.catalog.get(name)
    if record is None or record.status == "DELETING":
        raise errors.table_not_found(name) if named else errors.ResourceNotFound()
    return record


def validate_create(data: dict[str, Any]) -> None:
    """CreateTable's semantic checks, in DynamoDB's order."""
    shape = shape_problem(data)
    if shape is not None:
        raise shape
    msg = _create_problem(data)
    if msg:
        raise errors.ValidationException(msg)


def _create_problem(data: dict[str, Any]) -> str | None:  # noqa: C901 - one check per DynamoDB rule
    throughput = data.get("ProvisionedThroughput")
    if data.get("BillingMode") == "PAY_PER_REQUEST":
        if throughput:
            return (_INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                    "when BillingMode is PAY_PER_REQUEST")
    else:
        if not throughput or not throughput.get("ReadCapacityUnits") or not throughput.get("WriteCapacityUnits"):
            return (_INVALID + "ReadCapacityUnits and WriteCapacityUnits must both be specified "
                    "when BillingMode is PROVISIONED")
        for unit in ("ReadCapacityUnits", "WriteCapacityUnits"):
            if throughput[unit] > 1_000_000_000_000:
                return f"Given value {throughput[unit]} for {unit} is out of bounds"

    defined = [d["AttributeName"] for d in data["AttributeDefinitions"]]
    keys = [k["AttributeName"] for k in data["KeySchema"]]
    if len(keys) > len(defined):
        return "Invalid KeySchema: Some index key attribute have no definition"
    msg = check_key_schema(data["KeySchema"], defined)
    if msg:
        return msg
    lsis, gsis = data.get("LocalSecondaryIndexes"), data.get("GlobalSecondaryIndexes")
    if lsis is None and gsis is None and len(keys) != len(defined):
        return (_INVALID + "Number of attributes in KeySchema does not exactly match number of "
                "attributes defined in AttributeDefinitions")
    seen: set[str] = set()
    if lsis is not None:
        if not lsis:
            return _INVALID + "List of LocalSecondaryIndexes is empty"
        if len(keys) != 2:
            return (_INVALID + "Table KeySchema does not have a range key, which is required when "
                    "specifying a LocalSecondaryIndex")
        for index in lsis:
            name = index["IndexName"]
            msg = check_key_schema(index["KeySchema"], defined)
            if msg:
                return msg
            if len(index["KeySchema"]) != 2:
                return _INVALID + f"Index KeySchema does not have a range key for index: {name}"
            index_hash = index["KeySchema"][0]["AttributeName"]
            if index_hash != keys[0]:
                return (_INVALID + "Index KeySchema does not have the same leading hash key as table "
                        f"KeySchema for index: {name}. index hash key: {index_hash}, table hash key: {keys[0]}")
            msg = check_projection(index)
            if msg:
                return msg
            if name in seen:
                return _INVALID + f"Duplicate index name: {name}"
            seen.add(name)
        if len(lsis) > MAX_LSIS:
            return _INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
    if gsis is not None:
        if not gsis:
            return _INVALID + "List of GlobalSecondaryIndexes is empty"
        for index in gsis:
            name = index["IndexName"]
            msg = check_gsi_key_schema(name, index["KeySchema"], defined) or check_projection(index)
            if msg:
                return msg
            if data.get("BillingMode") == "PAY_PER_REQUEST" and index.get("ProvisionedThroughput"):
                return (_INVALID + f"ProvisionedThroughput should not be specified for index: {name} "
                        "when BillingMode is PAY_PER_REQUEST")
            if name in seen:
                return _INVALID + f"Duplicate index name: {name}"
            seen.add(name)
        if len(gsis) > MAX_GSIS:
            return _INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"
    # Attribute definitions that no key uses are an error once indexes are counted.
    used = set(keys)
    for index in (lsis or []) + (gsis or []):
        used.update(k["AttributeName"] for k in index["KeySchema"])
    if set(defined) - used:
        return (_INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: "
                f"[{', '.join(defined)}], keys used: [{', '.join(sorted(used, key=defined.index))}]")
    if len(set(defined)) != len(defined):
        return _INVALID + "Duplicate AttributeName in AttributeDefinitions"
    return None


def _stream_fields(name: str, spec: dict[str, Any] | None) -> dict[str, Any]:
    if not spec or not spec.get("StreamEnabled"):
        return {}
    now = time.time()  # one reading, so seconds and milliseconds agree
    label = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}"
    return {
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]},
        "LatestStreamLabel": label,
        "LatestStreamArn": f"{table_arn(name)}/stream/{label}",
    }


def _new_stream(desc: dict[str, Any]) -> NewStream | None:
    """The stream row for a description whose stream _stream_fields just enabled."""
    if not desc.get("StreamSpecification", {}).get("StreamEnabled"):
        return None
    return NewStream(desc["LatestStreamArn"], desc["TableName"], desc["LatestStreamLabel"],
                     desc["StreamSpecification"]["StreamViewType"], time.time(), desc["KeySchema"])


def _validate_stream_spec(spec: dict[str, Any] | None) -> None:
    if spec is None:
        return
    if spec.get("StreamEnabled") and not spec.get("StreamViewType"):
        raise errors.ValidationException(
            _INVALID + "You must specify a StreamViewType when enabling a stream")
    if not spec.get("StreamEnabled") and spec.get("StreamViewType"):
        raise errors.ValidationException(
            _INVALID + "You cannot modify the StreamViewType if StreamEnabled is false")


def initial_description(data: dict[str, Any], created_at: float) -> dict[str, Any]:
    name = data["TableName"]
    pay = data.get("BillingMode") == "PAY_PER_REQUEST"
    desc: dict[str, Any] = {
        "AttributeDefinitions": data["AttributeDefinitions"],
        "TableName": name,
        "KeySchema": data["KeySchema"],
        "CreationDateTime": created_at,
        "ProvisionedThroughput": throughput_description(None if pay else data.get("ProvisionedThroughput")),
        "TableArn": table_arn(name),
        "TableId": str(uuid.uuid4()),
        "DeletionProtectionEnabled": bool(data.get("DeletionProtectionEnabled", False)),
    }
    if pay:
        desc["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST",
                                      "LastUpdateToPayPerRequestDateTime": created_at}
    if data.get("LocalSecondaryIndexes"):
        desc["LocalSecondaryIndexes"] = [
            index_description(name, i, global_index=False, pay_per_request=pay)
            for i in data["LocalSecondaryIndexes"]]
    if data.get("GlobalSecondaryIndexes"):
        desc["GlobalSecondaryIndexes"] = [
            index_description(name, i, global_index=True, pay_per_request=pay)
            for i in data["GlobalSecondaryIndexes"]]
    if data.get("TableClass"):
        desc["TableClassSummary"] = {"TableClass": data["TableClass"]}
    desc.update(_stream_fields(name, data.get("StreamSpecification")))
    return desc


async def describe(req: Request, record: TableRecord, status: str | None = None,
                   stats: bool = True) -> dict[str, Any]:
    # Keys starting with "_" hold settings other operations report (TTL,
    # continuous backups…); DescribeTable does not show them.
    desc = {k: copy.deepcopy(v) for k, v in record.description.items() if not k.startswith("_")}
    desc["TableStatus"] = status or record.status
    count, size = await req.runtime.backend.table_stats(record.id) if stats else (0, 0)
    desc["ItemCount"] = count
    desc["TableSizeBytes"] = size
    ids = {spec.name: spec.id for spec in record.extra.get("indexes", [])}
    for index in desc.get("LocalSecondaryIndexes", []) + desc.get("GlobalSecondaryIndexes", []):
        index_id = ids.get(index["IndexName"])
        count, size = (await req.runtime.backend.index_stats(index_id)
                       if stats and index_id is not None else (0, 0))
        index["ItemCount"] = count
        index["IndexSizeBytes"] = size
    return desc


async def create_table(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    validate_create(data)
    _validate_stream_spec(data.get("StreamSpecification"))
    tag_pairs = tags_ops.validate_create_tags(data)
    name = data["TableName"]
    created_at = round(time.time(), 3)
    try:
        index_names = [(i["IndexName"], "LSI") for i in data.get("LocalSecondaryIndexes") or []]
        index_names += [(i["IndexName"], "GSI") for i in data.get("GlobalSecondaryIndexes") or []]
        record = await req.runtime.backend.create_table(
            name, initial_description(data, created_at), "ACTIVE", created_at, index_names)
    except TableExists:
        raise errors.table_in_use(name) from None
    stream = _new_stream(record.description)
    if stream is not None:
        try:
            await req.runtime.backend.create_stream(record.id, stream)
        except Exception:  # no table that claims a stream it does not have
            await req.runtime.backend.drop_table(record.id)
            raise
    req.runtime.catalog.changed()
    await tags_ops.tag_new_table(req, record.description["TableArn"], tag_pairs)
    return {"TableDescription": await describe(req, record, stats=False)}


async def describe_table(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    record = await get_table(req, data["TableName"], named=True)
    return {"Table": await describe(req, record)}


async def list_tables(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    limit = data.get("Limit", 100)
    names = await req.runtime.backend.list_table_names(data.get("ExclusiveStartTableName"), limit + 1)
    out: dict[str, Any] = {"TableNames": names[:limit]}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = names[limit - 1]
    return out


async def delete_table(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    name = data["TableName"]
    record = await get_table(req, name, named=True)
    if record.description.get("DeletionProtectionEnabled"):
        raise errors.ValidationException(
            "Resource cannot be deleted as it is currently protected against deletion. "
            "Disable deletion protection first.")
    full = await describe(req, record, status="DELETING")
    # DynamoDB's reduced description of a table being deleted: no key schema,
    # attribute definitions, creation time, indexes or stream.
    description = {k: full[k] for k in _DELETING_FIELDS if k in full}
    # One transaction: its streams stay readable for 24 hours, DISABLED and
    # without a table; its tags go with it; with PITR, a SYSTEM backup is taken.
    now = time.time()
    await req.runtime.backend.drop_table(record.id, now, record.description["TableArn"],
                                         system_backup=pitr.system_backup(record, now))
    req.runtime.catalog.changed()
    return {"TableDescription": description}


async def update_table(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    name = data["TableName"]
    record = await get_table(req, name, named=True)
    desc = copy.deepcopy(record.description)
    changed = False
    billing = data.get("BillingMode")
    throughput = data.get("ProvisionedThroughput")
    current_billing = desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if billing == "PAY_PER_REQUEST":
        if throughput:
            raise errors.ValidationException(
                _INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "when BillingMode is PAY_PER_REQUEST")
        if current_billing != "PAY_PER_REQUEST":
            now = round(time.time(), 3)
            desc["BillingModeSummary"] = {"BillingMode": "PAY_PER_REQUEST",
                                          "LastUpdateToPayPerRequestDateTime": now}
            desc["ProvisionedThroughput"] = throughput_description(None)
        changed = True  # the mode the table already has is accepted, as in DynamoDB
    elif billing == "PROVISIONED" or throughput:
        if (billing == "PROVISIONED" or current_billing == "PAY_PER_REQUEST") and not throughput:
            raise errors.ValidationException(
                _INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
        if throughput:
            for unit in ("ReadCapacityUnits", "WriteCapacityUnits"):
                if throughput[unit] > 1_000_000_000_000:
                    raise errors.ValidationException(
                        f"Given value {throughput[unit]} for {unit} is out of bounds")
            old = desc["ProvisionedThroughput"]
            if (current_billing == "PROVISIONED" and billing != "PAY_PER_REQUEST"
                    and old["ReadCapacityUnits"] == throughput["ReadCapacityUnits"]
                    and old["WriteCapacityUnits"] == throughput["WriteCapacityUnits"]):
                raise errors.ValidationException(
                    "The provisioned throughput for the table will not change. The requested value "
                    "equals the current value. Current ReadCapacityUnits provisioned for the table: "
                    f"{old['ReadCapacityUnits']}. Requested ReadCapacityUnits: {throughput['ReadCapacityUnits']}. "
                    "Current WriteCapacityUnits provisioned for the table: "
                    f"{old['WriteCapacityUnits']}. Requested WriteCapacityUnits: {throughput['WriteCapacityUnits']}. "
                    "Refer to the Amazon DynamoDB Developer Guide for current limits and how to request "
                    "higher limits.")
            desc["ProvisionedThroughput"] = throughput_description(throughput)
            desc.pop("BillingModeSummary", None)
            desc["BillingModeSummary"] = {"BillingMode": "PROVISIONED"}
            changed = True
    if "DeletionProtectionEnabled" in data:
        desc["DeletionProtectionEnabled"] = bool(data["DeletionProtectionEnabled"])
        changed = True
    stream_change: tuple[NewStream | None, bool] | None = None  # (stream to create, disable the current one)
    if "StreamSpecification" in data:
        spec = data["StreamSpecification"]
        _validate_stream_spec(spec)
        enabled = desc.get("StreamSpecification", {}).get("StreamEnabled", False)
        if spec.get("StreamEnabled") and enabled:
            raise errors.ValidationException(f"Table already has an enabled stream: {table_arn(name)}")
        if not spec.get("StreamEnabled") and not enabled:
            raise errors.ValidationException("Table already has no stream enabled")  # noqa: E501
        if spec.get("StreamEnabled"):
            desc.update(_stream_fields(name, spec))
            stream_change = (_new_stream(desc), False)
        else:
            # DynamoDB then leaves StreamSpecification out; LatestStreamArn stays.
            desc.pop("StreamSpecification", None)
            stream_change = (None, True)
        changed = True
    if "TableClass" in data:
        desc["TableClassSummary"] = {"TableClass": data["TableClass"]}
        changed = True
    index_changes = index_updates.IndexChanges()
    if data.get("GlobalSecondaryIndexUpdates"):
        index_changes = await index_updates.apply_updates(req, record, desc, data)
        changed = True
    if not changed:
        raise errors.ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, "
            "GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required")
    # A copy: the cached record stays as it was if the save is refused as stale.
    record = dataclasses.replace(record, description=desc)
    new_stream, disable_streams = stream_change or (None, False)
    # One transaction for the table, its index rows and its streams; refused (StaleSchema,
    # and the request is redone) if the table changed since it was read here. A new
    # index is backfilled by the background process (wireapi.backfill).
    await req.runtime.backend.save_table(record, new_indexes=index_changes.create,
                                         dropped_indexes=index_changes.drop, new_stream=new_stream,
                                         disable_streams=disable_streams, now=time.time())
    req.runtime.catalog.changed()
    return {"TableDescription": await describe(req, record, stats=False)}


HANDLERS = {
    "CreateTable": create_table,
    "DescribeTable": describe_table,
    "ListTables": list_tables,
    "DeleteTable": delete_table,
    "UpdateTable": update_table,
}
