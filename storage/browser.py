"""The table browser: staff-only admin pages over the DynamoDB operations (tables; items in browser_items).

Every read and write goes through storage.browser_calls (the wire protocol's
handlers), so what the admin sees and may do is exactly what a client sees
and may do; DynamoDB's error messages are shown on the page.

The browser reads and writes every table whatever the IAM policies say, so it
asks for Django permissions on the Table model besides staff status: view
(browse, query), change (write and delete items), add (create tables) and
delete (delete tables). Superusers have them all; an auditor with staff status
and only the access log's view permission sees no table data.
"""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from .browser_calls import DynamoDBError, call, message_of
from .browser_common import (PAGE_SIZES, decode_start, describe, encode_start, key_names, needs, page,
                             page_size, pretty, item_rows, attribute_types)
from .browser_forms import CreateTableForm, DeleteTableForm, QueryForm


@needs("view")
async def table_list(request: HttpRequest) -> HttpResponse:
    data: dict[str, Any] = {"Limit": 100}
    if request.GET.get("start"):
        data["ExclusiveStartTableName"] = request.GET["start"]
    tables, error, last = [], None, None
    try:
        listed = await call(request, "ListTables", data)
        last = listed.get("LastEvaluatedTableName")
        for name in listed["TableNames"]:
            try:
                tables.append((await call(request, "DescribeTable", {"TableName": name}))["Table"])
            except DynamoDBError:
                continue  # deleted meanwhile
    except DynamoDBError as exc:
        error = message_of(exc)
    return await page(request, "table_list.html", {"title": "Tables", "tables": tables, "error": error,
                                                    "next_start": last})


@needs("add")
async def table_create(request: HttpRequest) -> HttpResponse:
    form = CreateTableForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            await call(request, "CreateTable", form.request())
        except DynamoDBError as exc:
            form.add_error(None, message_of(exc))
        else:
            name = form.cleaned_data["table_name"]
            await sync_to_async(messages.success)(request, f"Created table {name}.")
            return HttpResponseRedirect(reverse("browser:table", args=[name]))
    return await page(request, "table_create.html", {"title": "Create table", "form": form})


@needs("view")
async def table_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The table's description, then a page of its items (Scan)."""
    table = await describe(request, name)
    size = page_size(request)
    data: dict[str, Any] = {"TableName": name, "Limit": size}
    start = request.GET.get("start")
    if start:
        data["ExclusiveStartKey"] = decode_start(start) or {}
    rows, error, next_url = [], None, None
    try:
        result = await call(request, "Scan", data)
        rows = item_rows(name, table, result.get("Items", []))
        if result.get("LastEvaluatedKey"):
            next_url = "?" + urlencode({"size": size, "start": encode_start(result["LastEvaluatedKey"])})
    except DynamoDBError as exc:
        error = message_of(exc)
    ttl = None
    try:
        ttl = (await call(request, "DescribeTimeToLive", {"TableName": name}))["TimeToLiveDescription"]
    except DynamoDBError:
        pass  # TTL not supported by this build
    indexes = [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", [])]
    context = {"title": f"Table {name}", "name": name, "table": table, "table_json": pretty(table),
               "key_names": key_names(table), "rows": rows, "error": error, "next_url": next_url,
               "size": size, "page_sizes": PAGE_SIZES, "ttl": ttl, "indexes": indexes, "started": bool(start)}
    return await page(request, "table_detail.html", context)


@needs("delete")
async def table_delete(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    form = DeleteTableForm(request.POST or None, table_name=name)
    if request.method == "POST" and form.is_valid():
        try:
            await call(request, "DeleteTable", {"TableName": name})
        except DynamoDBError as exc:
            form.add_error(None, message_of(exc))
        else:
            await sync_to_async(messages.success)(request, f"Deleted table {name}.")
            return HttpResponseRedirect(reverse("browser:tables"))
    return await page(request, "table_delete.html", {"title": f"Delete table {name}", "name": name,
                                                      "table": table, "form": form})


@needs("view")
async def table_query(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    indexes = {i["IndexName"]: i["KeySchema"]
               for i in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", [])}
    form = QueryForm(request.GET if "partition_value" in request.GET else None, indexes=list(indexes))
    rows, error, next_url = [], None, None
    if form.is_bound and form.is_valid():
        schema = indexes.get(form.cleaned_data["index"]) or table["KeySchema"]
        size = page_size(request)
        try:
            data = form.request(name, schema, attribute_types(table))
            data["Limit"] = size
            start = decode_start(request.GET.get("start", "")) if request.GET.get("start") else None
            if start:
                data["ExclusiveStartKey"] = start
            result = await call(request, "Query", data)
            rows = item_rows(name, table, result.get("Items", []))
            if result.get("LastEvaluatedKey"):
                params = {k: v for k, v in request.GET.items() if k != "start"}
                next_url = "?" + urlencode({**params, "start": encode_start(result["LastEvaluatedKey"])})
        except DynamoDBError as exc:
            error = message_of(exc)
        except ValidationError as exc:  # a B value that is not base64
            error = "; ".join(exc.messages)
    return await page(request, "table_query.html", {"title": f"Query {name}", "name": name, "form": form,
                                                     "rows": rows, "error": error, "next_url": next_url,
                                                     "key_names": key_names(table), "searched": form.is_bound})
