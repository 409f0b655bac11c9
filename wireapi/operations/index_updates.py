"""UpdateTable's GlobalSecondaryIndexUpdates: create (with a background
backfill of existing items), delete, and throughput updates of GSIs."""
from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

import orjson

from storage.backends import TableRecord

from .. import errors, indexes
from ..dispatch import Request
from ..runtime import Runtime
from .table_schema import MAX_GSIS, check_created_gsi, index_description, throughput_description

log = logging.getLogger("extenddb.indexes")

_INVALID = "One or more parameter values were invalid: "
BACKFILL_PAGE = 200
# Let requests that loaded the table before the index existed finish before
# the backfill reads their items (they do not maintain the new index).
BACKFILL_DELAY_SECONDS = 1.0

_backfills: set[asyncio.Task] = set()


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
                        data: dict[str, Any]) -> list[tuple[int, str]]:
    """Change `desc` for each update; return the (index id, name) pairs to backfill."""
    updates = data["GlobalSecondaryIndexUpdates"]
    validate_updates(updates)
    gsis = desc.setdefault("GlobalSecondaryIndexes", [])
    by_name = {g["IndexName"]: g for g in gsis}
    backend = req.runtime.backend
    pay = desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    to_backfill: list[tuple[int, str]] = []
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
            index_id = await backend.create_index(record.id, name, "GSI", "CREATING")
            to_backfill.append((index_id, name))
        elif update.get("Delete"):
            name = update["Delete"]["IndexName"]
            if name not in by_name:
                raise errors.ResourceNotFound(f"Requested resource not found: Index: {name} not found")
            spec = next((s for s in record.extra["indexes"] if s.name == name), None)
            gsis.remove(by_name.pop(name))
            if spec is not None:
                await backend.drop_index(spec.id)
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
    return to_backfill


def start_backfill(runtime: Runtime, table_name: str, index_id: int, index_name: str) -> None:
    task = asyncio.get_running_loop().create_task(_backfill(runtime, table_name, index_id, index_name))
    _backfills.add(task)
    task.add_done_callback(_backfills.discard)


async def _backfill(runtime: Runtime, table_name: str, index_id: int, index_name: str) -> None:
    """Index every existing item, a page per transaction, then mark the index ACTIVE.

    Each item is re-read under its row lock before its entry is written, so a
    concurrent write either lands before (and is indexed here) or after (and
    maintains the index itself, the index being CREATING and writable)."""
    await asyncio.sleep(BACKFILL_DELAY_SECONDS)
    backend = runtime.backend
    try:
        record = await runtime.catalog.get(table_name)
        spec = next((s for s in record.extra["indexes"] if s.id == index_id), None) if record else None
        if record is None or spec is None:
            return  # table or index deleted meanwhile
        after = None
        violations = 0
        while True:
            rows = await backend.scan(record.id, after, None, BACKFILL_PAGE)
            if not rows:
                break
            async with backend.transaction() as txn:
                for hash_key, range_key, _, _ in rows:
                    raw = await txn.get_item(record.id, hash_key, range_key)
                    if raw is None:
                        continue
                    item = orjson.loads(raw)
                    # An item violating the new key schema stays out of the index (DynamoDB's rule).
                    violations += indexes.key_violation(spec, item)
                    await indexes.maintain(txn, [spec], hash_key, range_key, None, item)
            after = (rows[-1][0], rows[-1][1])
        if violations:
            log.warning("backfill of index %s on %s left out %d item(s) violating its key schema "
                        "(manage.py checkconsistency counts them)", index_name, table_name, violations)
        await backend.set_index_status(index_id, "ACTIVE")
        record = await runtime.catalog.get(table_name)
        if record is None:
            return
        desc = copy.deepcopy(record.description)
        for gsi in desc.get("GlobalSecondaryIndexes", []):
            if gsi["IndexName"] == index_name:
                gsi["IndexStatus"] = "ACTIVE"
                gsi.pop("Backfilling", None)
        record.description = desc
        await backend.save_table(record)
        runtime.catalog.changed()
    except Exception:
        log.exception("backfill of index %s on %s failed", index_name, table_name)
