"""On-demand backups (CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup), continuous backups (UpdateContinuousBackups,
DescribeContinuousBackups) and RestoreTableToPointInTime.

A backup is a consistent copy of a table's description and items, made in
one transaction inside the database (INSERT … SELECT); a restore creates the
new table, copies the items back the same way and rebuilds index entries,
also in one transaction, so the new table appears complete or not at all.
Both finish before the call returns: a backup is AVAILABLE and a restored
table ACTIVE at once. Deleting a table with PITR enabled takes a SYSTEM
backup of it (ListBackups BackupType SYSTEM or ALL), kept for 35 days.

Point-in-time recovery keeps item history (wireapi.pitr). A point-in-time
restore creates the table CREATING at once and builds it in the background
(wireapi.transfer.restore) from the history as of the chosen instant; the
table then turns ACTIVE. A deleted table's window stays restorable for its
recovery period (by SourceTableName or SourceTableArn).
"""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import time
from typing import Any

import orjson
from django.conf import settings

from extenddb_site import joblog
from storage.backends.base import BackupBusy, BackupGone, BackupRecord, TableExists, TableRecord

from .. import errors, indexes, pitr
from ..catalog import key_schema
from ..dispatch import Request
from ..transfer import jobs
from .tables import describe, initial_description, table_name_of, validate_create

_INVALID_REQUEST = "Invalid Request: "
_BACKUP_ARN = re.compile(
    r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):table/[^/]+/backup/(?P<id>[^/]+)")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
DEFAULT_LIST_LIMIT = 100
DEFAULT_RECOVERY_DAYS = pitr.DEFAULT_RECOVERY_DAYS
REBUILD_PAGE = 500
MAX_CONCURRENT_RESTORES = 50
# "retained for 35 days (at no additional cost)"
SYSTEM_BACKUP_DAYS = 35
_BACKUP_TYPES = {"USER": ("USER",), "SYSTEM": ("SYSTEM",), "ALL": ("USER", "SYSTEM"), "AWS_BACKUP": ()}


def backup_arn(table_arn: str, created_at: float) -> str:
    """DynamoDB's form: <table ARN>/backup/<epoch milliseconds, 14 digits>-<8 hex digits>."""
    return f"{table_arn}/backup/{round(created_at * 1000):014d}-{os.urandom(4).hex()}"


def _cursor(arn: str) -> tuple[float, str]:
    """ExclusiveStartBackupArn is a pure position (creation time, ARN): it need not
    name a backup that still exists."""
    match = _BACKUP_ARN.fullmatch(arn)
    stamp = re.match(r"(\d+)-", match.group("id")) if match else None
    if stamp is None:
        raise errors.ValidationException("Invalid Backup ARN")
    return int(stamp.group(1)) / 1000, _local(arn)


def _table_not_found(name: str) -> errors.TableNotFound:
    return errors.TableNotFound(f"Table not found: {name}")


async def _table(req: Request, name_or_arn: str) -> TableRecord:
    name = table_name_of(name_or_arn)
    record = await req.runtime.catalog.get(name)
    if record is None or record.status == "DELETING":
        raise _table_not_found(name)
    return record


def _local(arn: str) -> str:
    """DynamoDB ignores the region part of a backup ARN: look it up as this server's."""
    parts = arn.split(":", 4)
    parts[3] = settings.EXTENDDB_REGION
    return ":".join(parts)


def _check_backup_arn(arn: str) -> None:
    match = _BACKUP_ARN.fullmatch(arn)
    if match is None:
        raise errors.ValidationException("Invalid Backup ARN")
    region = match.group("region")
    if (match.group("partition") != "aws" or match.group("service") != "dynamodb"
            or not (region == settings.EXTENDDB_REGION or _REGION.fullmatch(region))):
        raise _invalid("BackupArn is not valid")
    if match.group("account") != settings.EXTENDDB_ACCOUNT_ID:
        raise errors.AccessDenied("Access is denied")


async def _backup(req: Request, arn: str) -> BackupRecord:
    _check_backup_arn(arn)
    backup = await req.runtime.backend.load_backup(_local(arn))
    if backup is None or backup.status != "AVAILABLE":
        raise errors.BackupNotFound(f"Backup not found: {arn}")
    return backup


# --- shapes of the answers ---------------------------------------------------------

def _billing_mode(description: dict[str, Any]) -> str:
    return description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")


def _throughput(spec: dict[str, Any] | None) -> dict[str, Any]:
    spec = spec or {}
    return {"ReadCapacityUnits": spec.get("ReadCapacityUnits", 0),
            "WriteCapacityUnits": spec.get("WriteCapacityUnits", 0)}


def _details(backup: BackupRecord, status: str | None = None) -> dict[str, Any]:
    return {
        "BackupArn": backup.arn,
        "BackupName": backup.name,
        "BackupSizeBytes": backup.size,
        "BackupStatus": status or backup.status,
        "BackupType": backup.backup_type,
        "BackupCreationDateTime": backup.created_at,
        **({"BackupExpiryDateTime": backup.created_at + SYSTEM_BACKUP_DAYS * pitr.DAY_SECONDS}
           if backup.backup_type == "SYSTEM" else {}),
    }


def _source_table(backup: BackupRecord) -> dict[str, Any]:
    desc = backup.description
    return {
        "TableName": backup.table_name,
        "TableId": desc.get("TableId", ""),
        "TableArn": backup.table_arn,
        "TableSizeBytes": backup.size,
        "KeySchema": desc["KeySchema"],
        "TableCreationDateTime": desc["CreationDateTime"],
        "ProvisionedThroughput": _throughput(desc.get("ProvisionedThroughput")),
        "ItemCount": backup.item_count,
        "BillingMode": _billing_mode(desc),
    }


def _index_info(index: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
    out = {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
    if with_throughput:
        out["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
    return out


def _features(backup: BackupRecord) -> dict[str, Any]:
    desc = backup.description
    out: dict[str, Any] = {}
    if desc.get("LocalSecondaryIndexes"):
        out["LocalSecondaryIndexes"] = [_index_info(i, False) for i in desc["LocalSecondaryIndexes"]]
    if desc.get("GlobalSecondaryIndexes"):
        out["GlobalSecondaryIndexes"] = [_index_info(i, True) for i in desc["GlobalSecondaryIndexes"]]
    # Streams and TTL are recorded only when enabled (a plain table's features are {}).
    if desc.get("StreamSpecification", {}).get("StreamEnabled"):
        out["StreamDescription"] = desc["StreamSpecification"]
    ttl = desc.get("_ttl") or {}
    if ttl.get("TimeToLiveStatus") == "ENABLED":
        out["TimeToLiveDescription"] = {k: v for k, v in ttl.items() if k in ("AttributeName", "TimeToLiveStatus")}
    return out


def _description(backup: BackupRecord, status: str | None = None) -> dict[str, Any]:
    return {"BackupDetails": _details(backup, status), "SourceTableDetails": _source_table(backup),
            "SourceTableFeatureDetails": _features(backup)}


def _summary(backup: BackupRecord) -> dict[str, Any]:
    return {
        "TableName": backup.table_name,
        "TableId": backup.description.get("TableId", ""),
        "TableArn": backup.table_arn,
        "BackupArn": backup.arn,
        "BackupName": backup.name,
        "BackupCreationDateTime": backup.created_at,
        "BackupStatus": backup.status,
        "BackupType": backup.backup_type,
        "BackupSizeBytes": backup.size,
        **({"BackupExpiryDateTime": backup.created_at + SYSTEM_BACKUP_DAYS * pitr.DAY_SECONDS}
           if backup.backup_type == "SYSTEM" else {}),
    }


# --- on-demand backups -------------------------------------------------------------

async def create_backup(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    record = await _table(req, data["TableName"])
    table_arn = record.description["TableArn"]
    created_at = round(time.time(), 3)
    backup = await req.runtime.backend.create_backup(
        record.id, backup_arn(table_arn, created_at), data["BackupName"], record.name, table_arn, created_at)
    if backup is None:  # deleted meanwhile
        raise _table_not_found(record.name)
    return {"BackupDetails": _details(backup)}


async def describe_backup(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return {"BackupDescription": _description(await _backup(req, data["BackupArn"]))}


async def delete_backup(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    backup = await _backup(req, data["BackupArn"])
    try:
        await req.runtime.backend.delete_backup(backup.id)
    except BackupBusy:
        raise errors.BackupInUse(f"Backup is being used to restore table: {backup.arn}") from None
    return {"BackupDescription": _description(backup, "DELETED")}


async def list_backups(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    lower, upper = data.get("TimeRangeLowerBound"), data.get("TimeRangeUpperBound")
    if lower is not None and upper is not None and lower > upper:
        raise errors.ValidationException(
            "One or more parameter values were invalid: Time range lower bound must be less than or "
            "equal to upper bound")
    # USER (on-demand) and SYSTEM (taken at the deletion of a PITR table); no AWS Backup here.
    types = _BACKUP_TYPES[data.get("BackupType", "USER")]
    if not types:
        return {"BackupSummaries": []}
    table_name = table_name_of(data["TableName"]) if data.get("TableName") else None
    limit = data.get("Limit", DEFAULT_LIST_LIMIT)
    start = data.get("ExclusiveStartBackupArn")
    rows = await req.runtime.backend.list_backups(table_name, lower, upper, _cursor(start) if start else None,
                                                  limit + 1, types)
    out: dict[str, Any] = {"BackupSummaries": [_summary(b) for b in rows[:limit]]}
    if len(rows) > limit:
        out["LastEvaluatedBackupArn"] = rows[limit - 1].arn
    return out


# --- restore -----------------------------------------------------------------------

def _invalid(detail: str) -> errors.ValidationException:
    return errors.ValidationException(_INVALID_REQUEST + detail)


def _no_such_index(name: str) -> errors.ValidationException:
    return _invalid(f"Index {name} does not match a secondary index that existed in the source table and "
                    "cannot be created during the restore operation")


def _chosen_indexes(source: list[dict[str, Any]], override: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The source's indexes or, when overridden, the listed ones: each must match a
    source index's key schema and projection (its name may change); [] drops all."""
    if override is None:
        return [copy.deepcopy(i) for i in source]
    for index in override:
        if not any(_same_projection(index["Projection"], s["Projection"]) and index["KeySchema"] == s["KeySchema"]
                   for s in source):
            raise _no_such_index(index["IndexName"])
    return [copy.deepcopy(i) for i in override]


def _same_projection(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a.get("ProjectionType") == b.get("ProjectionType")
            and sorted(a.get("NonKeyAttributes", [])) == sorted(b.get("NonKeyAttributes", [])))


def restore_request(backup: BackupRecord, data: dict[str, Any]) -> dict[str, Any]:
    """The CreateTable request that makes the restored table: the backup's keys, billing
    and indexes with the overrides applied. As in DynamoDB, streams, TTL, PITR, tags,
    deletion protection and table class are not restored."""
    return restore_request_from(backup.description, data)


def restore_request_from(source: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """restore_request for a source table description (a backup's, or the live or
    deleted table's for a point-in-time restore)."""
    billing_override = data.get("BillingModeOverride")
    throughput_override = data.get("ProvisionedThroughputOverride")
    if billing_override == "PAY_PER_REQUEST" and throughput_override:
        raise _invalid("Cannot override ProvisionedThroughput if BillingMode is overridden to PAY_PER_REQUEST")
    if billing_override == "PROVISIONED" and not throughput_override:
        raise _invalid("Must override ProvisionedThroughput if BillingMode is overridden to PROVISIONED")
    billing = billing_override or _billing_mode(source)
    if throughput_override and billing != "PROVISIONED":
        raise _invalid("Cannot override ProvisionedThroughput unless BillingMode is PROVISIONED")

    request: dict[str, Any] = {"TableName": data["TargetTableName"], "KeySchema": source["KeySchema"],
                               "BillingMode": billing}
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = _throughput(throughput_override or source.get("ProvisionedThroughput"))
    lsis = _chosen_indexes(source.get("LocalSecondaryIndexes", []), data.get("LocalSecondaryIndexOverride"))
    gsis = _chosen_indexes(source.get("GlobalSecondaryIndexes", []), data.get("GlobalSecondaryIndexOverride"))
    overridden = data.get("GlobalSecondaryIndexOverride") is not None
    for gsi in gsis:
        throughput = gsi.pop("ProvisionedThroughput", None)
        if billing == "PAY_PER_REQUEST":
            if overridden and throughput:
                raise _invalid("Cannot override ProvisionedThroughput if BillingMode is overridden to "
                               f"PAY_PER_REQUEST for index {gsi['IndexName']}")
            continue
        throughput = _throughput(throughput)
        if not throughput["ReadCapacityUnits"] or not throughput["WriteCapacityUnits"]:
            raise _invalid(f"Must specify provisioned throughput for index {gsi['IndexName']}")
        gsi["ProvisionedThroughput"] = throughput
    for index in lsis + gsis:
        for key in ("IndexStatus", "IndexArn", "ItemCount", "IndexSizeBytes", "Backfilling"):
            index.pop(key, None)
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    used = {k["AttributeName"] for k in source["KeySchema"]}
    for index in lsis + gsis:
        used.update(k["AttributeName"] for k in index["KeySchema"])
    request["AttributeDefinitions"] = [d for d in source["AttributeDefinitions"] if d["AttributeName"] in used]
    return request


async def restore_table_from_backup(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    backup = await _backup(req, data["BackupArn"])
    target = data["TargetTableName"]
    if await req.runtime.catalog.get(target) is not None:
        raise errors.TableAlreadyExists(f"Table already exists: {target}")
    request = restore_request(backup, data)
    validate_create(request)
    created_at = round(time.time(), 3)
    description = initial_description(request, created_at)
    description["RestoreSummary"] = {
        "SourceBackupArn": backup.arn,
        "SourceTableArn": backup.table_arn,
        "RestoreDateTime": created_at,
        "RestoreInProgress": False,  # the copy is done before this call returns
    }
    index_names = [(i["IndexName"], "LSI") for i in request.get("LocalSecondaryIndexes", [])]
    index_names += [(i["IndexName"], "GSI") for i in request.get("GlobalSecondaryIndexes", [])]
    backend = req.runtime.backend
    try:
        async with joblog.job("restore", backup=backup.arn, table=target), \
                backend.restore_backup(backup.id, target, description, created_at, index_names) as session:
            if session.indexes:
                await _rebuild_indexes(session, description)
    except TableExists:
        raise errors.TableAlreadyExists(f"Table already exists: {target}") from None
    except BackupGone:
        raise errors.BackupNotFound(f"Backup not found: {backup.arn}") from None
    except BackupBusy:
        raise errors.BackupInUse(f"Backup is being used to restore another table: {backup.arn}") from None
    req.runtime.catalog.changed()
    record = await req.runtime.catalog.get(target)
    assert record is not None
    return {"TableDescription": await describe(req, record)}


async def _rebuild_indexes(session: Any, description: dict[str, Any]) -> None:
    """Index every restored item, inside the restore's transaction."""
    specs = indexes.build_specs(description, key_schema(description), {r.name: r for r in session.indexes})
    after = None
    while True:
        rows = await session.scan(after, REBUILD_PAGE)
        if not rows:
            return
        for hash_key, range_key, body, _ in rows:
            await indexes.maintain(session, specs, hash_key, range_key, None, orjson.loads(body))
        after = (rows[-1][0], rows[-1][1])


# --- continuous backups ------------------------------------------------------------

async def _continuous(req: Request, description: dict[str, Any]) -> dict[str, Any]:
    settings_ = pitr.settings_of(description)
    out: dict[str, Any] = {"PointInTimeRecoveryStatus": settings_["PointInTimeRecoveryStatus"]}
    if out["PointInTimeRecoveryStatus"] == "ENABLED":
        days = settings_.get("RecoveryPeriodInDays", DEFAULT_RECOVERY_DAYS)
        earliest, latest = pitr.window(settings_["EnabledAt"], days, await req.runtime.backend.clock())
        out["EarliestRestorableDateTime"] = earliest
        out["LatestRestorableDateTime"] = latest
        out["RecoveryPeriodInDays"] = days
    # "Continuous backups are ENABLED on all tables at table creation" (on-demand backups).
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": out}


async def describe_continuous_backups(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    record = await _table(req, data["TableName"])
    return {"ContinuousBackupsDescription": await _continuous(req, record.description)}


async def update_continuous_backups(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    spec = data["PointInTimeRecoverySpecification"]
    enabled = spec["PointInTimeRecoveryEnabled"]
    days = spec.get("RecoveryPeriodInDays")
    if not enabled and days is not None:
        raise _invalid("Cannot specify RecoveryPeriodInDays when disabling point-in-time recovery.")
    # A copy: the cached record stays as it was if the save is refused as stale (the
    # request is then redone on the new definition).
    record = dataclasses.replace(await _table(req, data["TableName"]), extra={})
    backend = req.runtime.backend
    current = pitr.settings_of(record.description)
    source_id = current.get("SourceId") if current["PointInTimeRecoveryStatus"] == "ENABLED" else None
    desc = copy.deepcopy(record.description)
    if enabled and source_id is not None:  # already on: the period may change, the window stays
        days = days or current.get("RecoveryPeriodInDays") or DEFAULT_RECOVERY_DAYS
        desc["_pitr"] = {**current, "RecoveryPeriodInDays": days}
        record.description = desc
        await backend.update_pitr(record, source_id, days)
    elif enabled:
        days = days or DEFAULT_RECOVERY_DAYS

        def describe_with(new_source: int, now: float) -> dict[str, Any]:
            return {**desc, "_pitr": {"PointInTimeRecoveryStatus": "ENABLED", "SourceId": new_source,
                                      "EnabledAt": now, "RecoveryPeriodInDays": days}}

        await backend.enable_pitr(record, days, describe_with)
    else:
        desc["_pitr"] = {"PointInTimeRecoveryStatus": "DISABLED"}
        record.description = desc
        if source_id is not None:
            await backend.disable_pitr(record, source_id)  # the history goes with the window
        else:
            await backend.save_table(record)
    req.runtime.catalog.changed()
    return {"ContinuousBackupsDescription": await _continuous(req, record.description)}


# --- point-in-time restore ------------------------------------------------------------

def _check_restore_request(data: dict[str, Any]) -> None:
    """Which source and which instant; texts not published by DynamoDB."""
    if ("SourceTableArn" in data) == ("SourceTableName" in data):
        raise _invalid("Exactly one of SourceTableArn or SourceTableName must be specified")
    if data.get("UseLatestRestorableTime") and "RestoreDateTime" in data:
        raise _invalid("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
    if not data.get("UseLatestRestorableTime") and "RestoreDateTime" not in data:
        raise _invalid("Either RestoreDateTime or UseLatestRestorableTime must be specified")
    if "SourceTableArn" in data and jobs.table_name_from_arn(data["SourceTableArn"]) is None:
        raise errors.ValidationException(f"Invalid TableArn: {data['SourceTableArn']}")


async def restore_source(req: Request, name: str, arn: str | None
                         ) -> tuple[Any, dict[str, Any], float, float]:
    """(source record, source description, earliest, latest) of a live table with PITR or
    of a deleted one whose window is still open; DynamoDB's error otherwise."""
    backend = req.runtime.backend
    record = await req.runtime.catalog.get(name)
    now = await backend.clock()
    if record is not None and record.status != "DELETING" and (arn is None or record.description["TableArn"] == arn):
        source_id = pitr.history_source(record)
        if source_id is None:
            raise errors.pitr_not_enabled(name)
        source = await backend.load_pitr_source(source_id=source_id)
        if source is None:  # disabled meanwhile
            raise errors.pitr_not_enabled(name)
        earliest, latest = pitr.window(source.enabled_at, source.recovery_days, now)
        return source, record.description, earliest, latest
    source = await backend.load_pitr_source(deleted_name=name)
    if source is None or source.description is None or (arn is not None and source.table_arn != arn):
        raise _table_not_found(name)
    earliest, _ = pitr.window(source.enabled_at, source.recovery_days, now)
    latest = source.deleted_at or now
    if earliest > latest:
        raise _table_not_found(name)
    return source, source.description, earliest, latest


async def restore_table_to_point_in_time(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    _check_restore_request(data)
    arn = data.get("SourceTableArn")
    name = jobs.table_name_from_arn(arn) if arn else data["SourceTableName"]
    target = data["TargetTableName"]
    source, source_description, earliest, latest = await restore_source(req, name, arn)
    if await req.runtime.catalog.get(target) is not None:
        raise errors.TableAlreadyExists(f"Table already exists: {target}")
    instant = latest if data.get("UseLatestRestorableTime") else data["RestoreDateTime"]
    if not earliest <= instant <= latest:
        raise errors.InvalidRestoreTime()
    running = await req.runtime.backend.list_jobs(jobs.RESTORE, None, None, MAX_CONCURRENT_RESTORES)
    if sum(1 for j in running if j.status in ("IN_PROGRESS", "RUNNING")) >= MAX_CONCURRENT_RESTORES:
        # "up to 50 concurrent restores (any type of restore) in a given account"; text not published.
        raise errors.LimitExceeded(f"Too many concurrent restores: at most {MAX_CONCURRENT_RESTORES}")
    request = restore_request_from(source_description, data)
    if "SSESpecificationOverride" in data:
        request["SSESpecification"] = data["SSESpecificationOverride"]
    validate_create(request)
    created_at = round(time.time(), 3)
    description = initial_description(request, created_at)
    if data.get("OnDemandThroughputOverride"):
        description["OnDemandThroughput"] = data["OnDemandThroughputOverride"]
    description["RestoreSummary"] = {"SourceTableArn": source.table_arn, "RestoreDateTime": instant,
                                     "RestoreInProgress": True}
    index_names = [(i["IndexName"], "LSI") for i in request.get("LocalSecondaryIndexes", [])]
    index_names += [(i["IndexName"], "GSI") for i in request.get("GlobalSecondaryIndexes", [])]
    backend = req.runtime.backend
    try:
        record = await backend.create_table(target, description, "CREATING", created_at, index_names)
    except TableExists:
        raise errors.TableAlreadyExists(f"Table already exists: {target}") from None
    req.runtime.catalog.changed()
    job_description = {"TableName": target, "TableId": description["TableId"], "SourceId": source.id,
                       "RestoreDateTime": instant, "SourceTableArn": source.table_arn, "Status": "IN_PROGRESS",
                       "ItemCount": 0}
    restore_arn = f"{description['TableArn']}/restore/{jobs.new_id()}"
    try:
        await backend.create_job(restore_arn, jobs.RESTORE, created_at, job_description, jobs.new_id(), created_at)
    except Exception:
        await backend.drop_table(record.id)  # no CREATING table without its restore
        req.runtime.catalog.changed()
        raise
    return {"TableDescription": await describe(req, record, stats=False)}


HANDLERS = {
    "CreateBackup": create_backup,
    "DescribeBackup": describe_backup,
    "ListBackups": list_backups,
    "DeleteBackup": delete_backup,
    "RestoreTableFromBackup": restore_table_from_backup,
    "DescribeContinuousBackups": describe_continuous_backups,
    "UpdateContinuousBackups": update_continuous_backups,
    "RestoreTableToPointInTime": restore_table_to_point_in_time,
}
