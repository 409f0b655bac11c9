"""UpdateTimeToLive and DescribeTimeToLive.

The setting lives in the table description under "_ttl" (DescribeTable does
not show it); wireapi.ttl_sweeper deletes the expired items. Changes apply at
once: there is no ENABLING/DISABLING phase and no one-change-an-hour limit.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any

from .. import errors
from ..dispatch import Request
from .tables import get_table

_DISABLED = {"TimeToLiveStatus": "DISABLED"}


def ttl_setting(description: dict[str, Any]) -> dict[str, Any]:
    return description.get("_ttl") or _DISABLED


def ttl_attribute(description: dict[str, Any]) -> str | None:
    """The TTL attribute name if TTL is enabled on the table."""
    setting = ttl_setting(description)
    return setting["AttributeName"] if setting["TimeToLiveStatus"] == "ENABLED" else None


async def update_time_to_live(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    spec = data["TimeToLiveSpecification"]
    enabled, name = bool(spec["Enabled"]), spec["AttributeName"]
    record = await get_table(req, data["TableName"], named=True)
    current = ttl_attribute(record.description)
    if current is not None and current != name:
        raise errors.ValidationException(
            f"TimeToLive is active on a different AttributeName: current AttributeName is {current}")
    if current is not None and enabled:
        raise errors.ValidationException("TimeToLive is already enabled")
    if current is None and not enabled:
        raise errors.ValidationException("TimeToLive is already disabled")
    desc = copy.deepcopy(record.description)
    desc["_ttl"] = {"AttributeName": name, "TimeToLiveStatus": "ENABLED" if enabled else "DISABLED"}
    # A copy: the cached record changes only once the new one is saved.
    await req.runtime.backend.save_table(dataclasses.replace(record, description=desc))
    req.runtime.catalog.changed()
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": name}}


async def describe_time_to_live(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    record = await get_table(req, data["TableName"], named=True)
    setting = ttl_setting(record.description)
    if setting["TimeToLiveStatus"] != "ENABLED":
        return {"TimeToLiveDescription": dict(_DISABLED)}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": setting["AttributeName"]}}


HANDLERS = {
    "UpdateTimeToLive": update_time_to_live,
    "DescribeTimeToLive": describe_time_to_live,
}
