"""Tables: the list, creation (keys, indexes, billing, stream, TTL, tags, deletion
protection), a table's overview and settings, and deletion with a typed confirmation.

Every change is a DynamoDB call (console.calls) so it is checked, refused and
logged exactly as a client's would be.
"""
from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .. import table_forms
from ..access import needs, page
from ..calls import DynamoDBError, call, message_of
from .common import describe, flash, index_summaries, key_names, optional, run_and_flash

LIST_LIMIT = 100


async def summaries(request: HttpRequest, start: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of tables with what the list and the dashboard show of each."""
    data: dict[str, Any] = {"Limit": LIST_LIMIT}
    if start:
        data["ExclusiveStartTableName"] = start
    listed = await call(request, "ListTables", data)
    rows = []
    for name in listed["TableNames"]:
        described = await optional(request, "DescribeTable", {"TableName": name})
        if described is None:
            continue  # deleted meanwhile
        table = described["Table"]
        ttl = (await optional(request, "DescribeTimeToLive", {"TableName": name}) or {}).get("TimeToLiveDescription", {})
        stream = table.get("StreamSpecification", {})
        rows.append({"name": name, "status": table["TableStatus"], "items": table.get("ItemCount", 0),
                     "size": table.get("TableSizeBytes", 0), "indexes": index_summaries(table),
                     "stream": stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
                     "ttl": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None,
                     "billing": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
                     "protected": table.get("DeletionProtectionEnabled", False)})
    return rows, listed.get("LastEvaluatedTableName")


@needs("storage.view_table")
async def table_list(request: HttpRequest) -> HttpResponse:
    error, rows, next_start = None, [], None
    try:
        rows, next_start = await summaries(request, request.GET.get("start"))
    except DynamoDBError as exc:
        error = message_of(exc)
    return await page(request, "tables/list.html", {"title": "Tables", "tables": rows, "error": error,
                                                    "next_start": next_start}, "Tables")


@needs("storage.view_table")
async def table_create(request: HttpRequest) -> HttpResponse:
    posted = request.POST if request.method == "POST" else None
    form = table_forms.CreateTableForm(posted)
    source = posted or {}
    gsis = table_forms.indexes_from(source, "gsi", 1 if posted is None else 0)
    lsis = table_forms.indexes_from(source, "lsi", 0)
    if posted is not None and "add_gsi" in posted:
        gsis = table_forms.indexes_from(source, "gsi", len(gsis) + 1)
        return await _create_page(request, form, gsis, lsis, validate=False)
    if posted is not None and "add_lsi" in posted:
        lsis = table_forms.indexes_from(source, "lsi", len(lsis) + 1)
        return await _create_page(request, form, gsis, lsis, validate=False)
    if posted is not None and form.is_valid():
        try:
            data = table_forms.create_request(form, gsis, lsis)
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            try:
                await call(request, "CreateTable", data)
            except DynamoDBError as exc:
                form.add_error(None, message_of(exc))
            else:
                name = data["TableName"]
                ttl = form.cleaned_data["ttl_attribute"]
                if ttl:
                    try:
                        await call(request, "UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": {
                            "Enabled": True, "AttributeName": ttl}})
                    except DynamoDBError as exc:
                        await flash(request, f"Created table {name}, but time to live was not set: "
                                             f"{message_of(exc)}", error=True)
                        return HttpResponseRedirect(reverse("console:table", args=[name]))
                await flash(request, f"Created table {name}.")
                return HttpResponseRedirect(reverse("console:table", args=[name]))
    return await _create_page(request, form, gsis, lsis)


async def _create_page(request: HttpRequest, form, gsis, lsis, validate: bool = True) -> HttpResponse:
    if not validate and form.is_bound:
        form.is_valid()
        form._errors = {}  # adding an index slot is not a submission: no errors yet
    return await page(request, "tables/create.html", {
        "title": "Create table", "form": form, "gsis": gsis, "lsis": lsis, "key_types": table_forms.KEY_TYPES,
        "projections": table_forms.PROJECTIONS, "max_gsis": table_forms.MAX_GSIS,
        "max_lsis": table_forms.MAX_LSIS}, "Tables")


@needs("storage.view_table")
async def table_detail(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    ttl = (await optional(request, "DescribeTimeToLive", {"TableName": name}) or {}).get("TimeToLiveDescription", {})
    tags = (await optional(request, "ListTagsOfResource", {"ResourceArn": table["TableArn"]}) or {}).get("Tags", [])
    backups = (await optional(request, "DescribeContinuousBackups", {"TableName": name}) or {}).get(
        "ContinuousBackupsDescription", {})
    pitr = backups.get("PointInTimeRecoveryDescription", {})
    stream = table.get("StreamSpecification", {})
    context = {
        "title": f"Table {name}", "name": name, "table": table, "key_names": key_names(table),
        "key_schema": [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]],
        "types": {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]},
        "indexes": index_summaries(table), "ttl": ttl, "tags": tags, "pitr": pitr,
        "stream_enabled": stream.get("StreamEnabled", False), "stream_view": stream.get("StreamViewType", ""),
        "billing": table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "throughput": table.get("ProvisionedThroughput", {}),
        "protected": table.get("DeletionProtectionEnabled", False),
        "table_json": json.dumps(table, indent=2, sort_keys=True, ensure_ascii=False),
        "stream_views": table_forms.STREAM_VIEWS[1:], "billing_modes": table_forms.BILLING,
        "key_types": table_forms.KEY_TYPES, "projections": table_forms.PROJECTIONS,
        "new_index": table_forms.IndexForm("gsi-0-", False),
    }
    return await page(request, "tables/detail.html", context, "Tables")


def _settings_request(table: dict[str, Any], action: str, post: Any) -> tuple[str, dict[str, Any], str]:
    """(operation, request, what the success message says) for one settings form."""
    name = table["TableName"]
    if action == "billing":
        data: dict[str, Any] = {"TableName": name, "BillingMode": post.get("billing_mode", "")}
        if post.get("billing_mode") == "PROVISIONED":
            try:
                data["ProvisionedThroughput"] = {"ReadCapacityUnits": int(post.get("rcu") or 0),
                                                 "WriteCapacityUnits": int(post.get("wcu") or 0)}
            except ValueError:
                raise ValueError("Capacity units are whole numbers") from None
        return "UpdateTable", data, "Billing updated."
    if action == "protection":
        on = post.get("deletion_protection") == "on"
        return ("UpdateTable", {"TableName": name, "DeletionProtectionEnabled": on},
                f"Deletion protection {'on' if on else 'off'}.")
    if action == "stream":
        view = post.get("stream_view_type", "")
        spec = {"StreamEnabled": True, "StreamViewType": view} if view else {"StreamEnabled": False}
        return "UpdateTable", {"TableName": name, "StreamSpecification": spec}, (
            f"Stream on ({view})." if view else "Stream off.")
    if action == "ttl":
        attribute = post.get("ttl_attribute", "").strip()
        enabled = post.get("ttl_enabled") == "on"
        return ("UpdateTimeToLive", {"TableName": name, "TimeToLiveSpecification": {
            "Enabled": enabled, "AttributeName": attribute}},
            f"Time to live {'on ' + attribute if enabled else 'off'}.")
    if action == "tag":
        key, value = post.get("tag_key", "").strip(), post.get("tag_value", "")
        return ("TagResource", {"ResourceArn": table["TableArn"], "Tags": [{"Key": key, "Value": value}]},
                f"Tagged {key}.")
    if action == "untag":
        key = post.get("tag_key", "")
        return "UntagResource", {"ResourceArn": table["TableArn"], "TagKeys": [key]}, f"Removed tag {key}."
    if action == "add_index":
        index = table_forms.index_from(post, "gsi-0-", False)
        return "UpdateTable", table_forms.add_index_request(table, index), f"Creating index {index.name}."
    if action == "delete_index":
        index = post.get("index_name", "")
        return ("UpdateTable", {"TableName": name, "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": index}}]},
                f"Deleting index {index}.")
    if action == "pitr":
        on = post.get("pitr") == "on"
        return ("UpdateContinuousBackups", {"TableName": name, "PointInTimeRecoverySpecification": {
            "PointInTimeRecoveryEnabled": on}}, f"Point-in-time recovery {'on' if on else 'off'}.")
    raise ValueError(f"Unknown setting {action!r}")


@needs("storage.view_table")
async def table_settings(request: HttpRequest, name: str) -> HttpResponse:
    """POST one settings form of the table's page; the result is shown there."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("console:table", args=[name]))
    table = await describe(request, name)
    await run_and_flash(request, lambda: _settings_request(table, request.POST.get("action", ""), request.POST))
    return HttpResponseRedirect(reverse("console:table", args=[name]) + "#settings")


@needs("storage.view_table")
async def table_delete(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    error = None
    if request.method == "POST":
        if request.POST.get("confirm_name") != name:
            error = "The name does not match; nothing was deleted."
        else:
            try:
                await call(request, "DeleteTable", {"TableName": name})
            except DynamoDBError as exc:
                error = message_of(exc)
            else:
                await flash(request, f"Deleted table {name}.")
                return HttpResponseRedirect(reverse("console:tables"))
    return await page(request, "tables/delete.html", {"title": f"Delete table {name}", "name": name,
                                                      "table": table, "error": error,
                                                      "protected": table.get("DeletionProtectionEnabled")},
                      "Tables")
