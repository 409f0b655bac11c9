"""UpdateTable's GlobalSecondaryIndexUpdates: create (the background process
then backfills existing items: wireapi.backfill), delete, and throughput
updates of GSIs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.backends import TableRecord

from .. import errors
from ..dispatch import Request
from .table_schema import MAX_GSIS, check_created_gsi, index_description, throughput_description

_INVALID = "One or more parameter values were invalid: "


@dataclass
class IndexChanges:
    """What UpdateTable's GlobalSecondaryIndexUpdates do to the stored indexes: written
    with the new description in one transaction (StorageBackend.save_table)."""

    create: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, status)
    drop: list[int] = field(default_factory=list)  # index ids


def validate_updates(updates: list[dict[str, Any]]) -> None:
    names: set[str] = set()
    for update in updates:
        actions = sum(1 for k in ("Update", "Create", "Delete") if update.get(k))
        if not actions:
            raise errors.ValidationException(
                _INVALID + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                "GlobalSecondaryIndexUpdate.Delete must not be null")
        if actions > 1:
            raise errors.ValidationException(errors.GSI_UPDATE_MORE_THAN_ONE_ACTION)
        name = next(update[k]["IndexName"] for k in ("Update", "Create", "Delete") if update.get(k))
        if name in names:
            raise errors.ValidationException(
                _INVALID + f"Only one global secondary index update per index is allowed simultaneously. "
                f"Index: {name}")
        names.add(name)
    if sum(1 for u in updates if u.get("Create") or u.get("Delete")) > 1:
        raise errors.LimitExceeded(
            "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")


async def apply_updates(req: Request, record: TableRecord, desc: dict[str, Any],
                        data: dict[str, Any]) -> IndexChanges:
    """Change `desc` for each update; return the index rows to create and to drop."""
    updates = data["GlobalSecondaryIndexUpdates"]
    validate_updates(updates)
    gsis = desc.setdefault("GlobalSecondaryIndexes", [])
    by_name = {g["IndexName"]: g for g in gsis}
    pay = desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    changes = IndexChanges()
    for update in updates:
        if update.get("Create"):
            create = update["Create"]
            name = create["IndexName"]
            if name in by_name or name in {i["IndexName"] for i in desc.get("LocalSecondaryIndexes", [])}:
                raise errors.ValidationException(f"{_INVALID}Index with name: {name} already exists")
            requested = data.get("AttributeDefinitions") or []
            definitions = {d["AttributeName"]: d for d in desc["AttributeDefinitions"]}
            for definition in requested:
                known = definitions.get(definition["AttributeName"])
                if known and known["AttributeType"] != definition["AttributeType"]:
                    raise errors.ValidationException(
                        _INVALID + "Cannot change the type of an attribute that is used by the table or "
                        f"an index: {definition['AttributeName']}")
                definitions[definition["AttributeName"]] = definition
            msg = check_created_gsi(create, [d["AttributeName"] for d in requested])
            if msg:
                raise errors.ValidationException(msg)
            if len(gsis) >= MAX_GSIS:
                raise errors.LimitExceeded(
                    "Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of 20")
            if pay and create.get("ProvisionedThroughput"):
                raise errors.ValidationException(
                    _INVALID + f"ProvisionedThroughput should not be specified for index: {name} "
                    "when BillingMode is PAY_PER_REQUEST")
            used = {k["AttributeName"] for k in desc["KeySchema"]}
            for index in gsis + desc.get("LocalSecondaryIndexes", []) + [create]:
                used.update(k["AttributeName"] for k in index["KeySchema"])
            desc["AttributeDefinitions"] = [d for n, d in definitions.items() if n in used]
            entry = index_description(record.name, create, global_index=True, pay_per_request=pay)
            entry["IndexStatus"] = "CREATING"
            entry["Backfilling"] = True
            gsis.append(entry)
            by_name[name] = entry
            changes.create.append((name, "GSI", "CREATING"))
        elif update.get("Delete"):
            name = update["Delete"]["IndexName"]
            if name not in by_name:
                raise errors.ResourceNotFound(f"Requested resource not found: Index: {name} not found")
            spec = next((s for s in record.extra["indexes"] if s.name == name), None)
            gsis.remove(by_name.pop(name))
            if spec is not None:
                changes.drop.append(spec.id)
        else:
            change = update["Update"]
            name = change["IndexName"]
            if name not in by_name:
                raise errors.ResourceNotFound(f"Requested resource not found: Index: {name} not found")
            if pay:
                raise errors.ValidationException(
                    _INVALID + f"ProvisionedThroughput should not be specified for index: {name} "
                    "when BillingMode is PAY_PER_REQUEST")
            by_name[name]["ProvisionedThroughput"] = throughput_description(change["ProvisionedThroughput"])
    if not gsis:
        desc.pop("GlobalSecondaryIndexes")
    return changes
