"""The table browser: staff-only admin pages over the DynamoDB operations.

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

import base64
import binascii
import json
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

from .browser_calls import DynamoDBError, call, message_of
from .browser_forms import CreateTableForm, DeleteTableForm, ItemForm, QueryForm, plain, typed

PAGE_SIZES = (10, 25, 50, 100)


def _needs(permission: str):
    """Staff status (else the sign-in page), then the permission (else 403)."""
    def wrap(view):
        return staff_member_required(permission_required(f"storage.{permission}_table", raise_exception=True)(view))
    return wrap


async def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    def build() -> HttpResponse:
        full = {**admin.site.each_context(request), **context}
        response = render(request, f"browser/{template}", full, status=status)
        add_never_cache_headers(response)  # table data must not linger in caches
        return response

    return await sync_to_async(build)()


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _encode_start(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def _decode_start(text: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("size", 25))
    except ValueError:
        return 25
    return size if size in PAGE_SIZES else 25


async def _describe(request: HttpRequest, name: str) -> dict[str, Any]:
    try:
        return (await call(request, "DescribeTable", {"TableName": name}))["Table"]
    except DynamoDBError as exc:
        raise Http404(message_of(exc)) from None


def _key_names(table: dict[str, Any]) -> list[str]:
    return [k["AttributeName"] for k in table["KeySchema"]]


def _types(table: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}


def _item_url(name: str, table: dict[str, Any], item: dict[str, Any]) -> str | None:
    names = _key_names(table)
    if any(n not in item for n in names):
        return None
    params = {"hash": plain(item[names[0]])}
    if len(names) > 1:
        params["range"] = plain(item[names[1]])
    return reverse("browser:item", args=[name]) + "?" + urlencode(params)


def _rows(name: str, table: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = _key_names(table)
    rows = []
    for item in items:
        rest = {k: v for k, v in item.items() if k not in names}
        summary = orjson.dumps(rest).decode()
        rows.append({"keys": [plain(item.get(n, {})) for n in names],
                     "summary": summary if len(summary) <= 200 else summary[:197] + "...",
                     "url": _item_url(name, table, item)})
    return rows


def _key_from(params: Any, table: dict[str, Any]) -> dict[str, Any] | None:
    """The primary key named by ?hash=…&range=…, typed by the table's definitions."""
    names, types = _key_names(table), _types(table)
    if "hash" not in params or (len(names) > 1 and "range" not in params):
        return None
    key = {names[0]: typed(params["hash"], types[names[0]])}
    if len(names) > 1:
        key[names[1]] = typed(params["range"], types[names[1]])
    return key


@_needs("view")
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
    return await _page(request, "table_list.html", {"title": "Tables", "tables": tables, "error": error,
                                                    "next_start": last})


@_needs("add")
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
    return await _page(request, "table_create.html", {"title": "Create table", "form": form})


@_needs("view")
async def table_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The table's description, then a page of its items (Scan)."""
    table = await _describe(request, name)
    size = _page_size(request)
    data: dict[str, Any] = {"TableName": name, "Limit": size}
    start = request.GET.get("start")
    if start:
        data["ExclusiveStartKey"] = _decode_start(start) or {}
    rows, error, next_url = [], None, None
    try:
        result = await call(request, "Scan", data)
        rows = _rows(name, table, result.get("Items", []))
        if result.get("LastEvaluatedKey"):
            next_url = "?" + urlencode({"size": size, "start": _encode_start(result["LastEvaluatedKey"])})
    except DynamoDBError as exc:
        error = message_of(exc)
    ttl = None
    try:
        ttl = (await call(request, "DescribeTimeToLive", {"TableName": name}))["TimeToLiveDescription"]
    except DynamoDBError:
        pass  # TTL not supported by this build
    indexes = [i["IndexName"] for i in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", [])]
    context = {"title": f"Table {name}", "name": name, "table": table, "table_json": _pretty(table),
               "key_names": _key_names(table), "rows": rows, "error": error, "next_url": next_url,
               "size": size, "page_sizes": PAGE_SIZES, "ttl": ttl, "indexes": indexes, "started": bool(start)}
    return await _page(request, "table_detail.html", context)


@_needs("delete")
async def table_delete(request: HttpRequest, name: str) -> HttpResponse:
    table = await _describe(request, name)
    form = DeleteTableForm(request.POST or None, table_name=name)
    if request.method == "POST" and form.is_valid():
        try:
            await call(request, "DeleteTable", {"TableName": name})
        except DynamoDBError as exc:
            form.add_error(None, message_of(exc))
        else:
            await sync_to_async(messages.success)(request, f"Deleted table {name}.")
            return HttpResponseRedirect(reverse("browser:tables"))
    return await _page(request, "table_delete.html", {"title": f"Delete table {name}", "name": name,
                                                      "table": table, "form": form})


@_needs("view")
async def table_query(request: HttpRequest, name: str) -> HttpResponse:
    table = await _describe(request, name)
    indexes = {i["IndexName"]: i["KeySchema"]
               for i in table.get("GlobalSecondaryIndexes", []) + table.get("LocalSecondaryIndexes", [])}
    form = QueryForm(request.GET if "partition_value" in request.GET else None, indexes=list(indexes))
    rows, error, next_url = [], None, None
    if form.is_bound and form.is_valid():
        schema = indexes.get(form.cleaned_data["index"]) or table["KeySchema"]
        size = _page_size(request)
        try:
            data = form.request(name, schema, _types(table))
            data["Limit"] = size
            start = _decode_start(request.GET.get("start", "")) if request.GET.get("start") else None
            if start:
                data["ExclusiveStartKey"] = start
            result = await call(request, "Query", data)
            rows = _rows(name, table, result.get("Items", []))
            if result.get("LastEvaluatedKey"):
                params = {k: v for k, v in request.GET.items() if k != "start"}
                next_url = "?" + urlencode({**params, "start": _encode_start(result["LastEvaluatedKey"])})
        except DynamoDBError as exc:
            error = message_of(exc)
        except ValidationError as exc:  # a B value that is not base64
            error = "; ".join(exc.messages)
    return await _page(request, "table_query.html", {"title": f"Query {name}", "name": name, "form": form,
                                                     "rows": rows, "error": error, "next_url": next_url,
                                                     "key_names": _key_names(table), "searched": form.is_bound})


def _parse_item(text: str) -> tuple[Any, str | None]:
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        return None, f"Not valid JSON: {exc}"


@_needs("view")
async def item_detail(request: HttpRequest, name: str) -> HttpResponse:
    """GetItem by ?hash=…&range=…; POST saves the edited item (PutItem) or moves it to a new key."""
    table = await _describe(request, name)
    try:
        key = _key_from(request.GET, table)
    except ValidationError as exc:  # a B value that is not base64
        key, error = None, "; ".join(exc.messages)
    else:
        error = None if key else "Give the item's key."
    if request.method == "POST" and not await (await request.auser()).ahas_perm("storage.change_table"):
        raise PermissionDenied
    item, form = None, ItemForm(request.POST or None)
    if key is not None:
        try:
            item = (await call(request, "GetItem", {"TableName": name, "Key": key, "ConsistentRead": True})).get("Item")
        except DynamoDBError as exc:
            error = message_of(exc)
        if item is None and error is None:
            error = "No item with this key."
    if request.method == "POST" and key is not None and form.is_valid():
        new_item, problem = _parse_item(form.cleaned_data["item"])
        if problem:
            form.add_error("item", problem)
        else:
            try:
                await _save(request, name, table, key, new_item)
            except DynamoDBError as exc:
                form.add_error("item", message_of(exc))
            else:
                await sync_to_async(messages.success)(request, "Saved the item.")
                return HttpResponseRedirect(_item_url(name, table, new_item) or reverse("browser:table", args=[name]))
    if not form.is_bound and item is not None:
        form = ItemForm(initial={"item": _pretty(item)})
    context = {"title": f"Item in {name}", "name": name, "item": item, "item_json": _pretty(item) if item else "",
               "form": form, "error": error, "key": key, "query": request.GET.urlencode()}
    return await _page(request, "item_detail.html", context)


async def _save(request: HttpRequest, name: str, table: dict[str, Any], key: dict[str, Any], item: Any) -> None:
    """PutItem; if the key was edited, the old item goes in the same transaction."""
    names = _key_names(table)
    moved = isinstance(item, dict) and any(item.get(n) != key[n] for n in names if n in item)
    if not moved:
        await call(request, "PutItem", {"TableName": name, "Item": item})
        return
    await call(request, "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": name, "Item": item}},
        {"Delete": {"TableName": name, "Key": key}},
    ]})


@_needs("change")
async def item_create(request: HttpRequest, name: str) -> HttpResponse:
    table = await _describe(request, name)
    types = _types(table)
    skeleton = {n: {types[n]: ""} for n in _key_names(table)}
    form = ItemForm(request.POST or None, initial={"item": _pretty(skeleton)})
    if request.method == "POST" and form.is_valid():
        item, problem = _parse_item(form.cleaned_data["item"])
        if problem:
            form.add_error("item", problem)
        else:
            first = _key_names(table)[0]
            try:
                # Create never overwrites: an existing key is the admin's mistake to see.
                await call(request, "PutItem", {"TableName": name, "Item": item,
                                                "ConditionExpression": "attribute_not_exists(#k)",
                                                "ExpressionAttributeNames": {"#k": first}})
            except DynamoDBError as exc:
                text = message_of(exc)
                if "ConditionalCheckFailed" in text:
                    text += " (an item with this key exists already)"
                form.add_error("item", text)
            else:
                await sync_to_async(messages.success)(request, "Created the item.")
                return HttpResponseRedirect(_item_url(name, table, item) or reverse("browser:table", args=[name]))
    return await _page(request, "item_create.html", {"title": f"New item in {name}", "name": name, "form": form})


@_needs("change")
async def item_delete(request: HttpRequest, name: str) -> HttpResponse:
    table = await _describe(request, name)
    try:
        key = _key_from(request.GET, table)
    except ValidationError:
        key = None
    if key is None:
        raise Http404("Give the item's key.")
    error = None
    if request.method == "POST":
        try:
            await call(request, "DeleteItem", {"TableName": name, "Key": key})
        except DynamoDBError as exc:
            error = message_of(exc)
        else:
            await sync_to_async(messages.success)(request, "Deleted the item.")
            return HttpResponseRedirect(reverse("browser:table", args=[name]))
    return await _page(request, "item_delete.html", {"title": f"Delete item from {name}", "name": name,
                                                     "key_json": _pretty(key), "error": error,
                                                     "query": request.GET.urlencode()})
