"""A table's items: the attribute grid with the Scan/Query builder, Previous/Next,
export of the page shown, bulk delete; one item viewed and edited as plain
JSON or DynamoDB JSON, saved only if unchanged since loaded (console.item_edit)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .. import grid, item_edit, read_forms, tokens
from ..access import needs, page
from ..calls import DynamoDBError, call, kind_of, message_of
from ..values import dump_plain, parse_plain, plain_item, to_dynamo_item
from .common import back_to, describe, flash, key_names

BATCH = 25  # BatchWriteItem's limit
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def _read(request: HttpRequest, table: dict[str, Any]) -> dict[str, Any]:
    """The read the form asks for, and what the page needs of its result."""
    out: dict[str, Any] = {"items": [], "error": None, "last_key": None, "request": None, "scanned": None}
    if "mode" not in request.GET and "start" not in request.GET:
        operation, data = "Scan", {"TableName": table["TableName"], "Limit": read_forms.page_size(request.GET)}
    else:
        try:
            operation, data = read_forms.read_request(table, request.GET)
        except ValueError as exc:
            out["error"] = str(exc)
            return out
    out["request"] = {"operation": operation, **data}
    try:
        result = await call(request, operation, data)
    except DynamoDBError as exc:
        out["error"] = message_of(exc)
        return out
    out.update(items=result.get("Items", []), last_key=result.get("LastEvaluatedKey"),
               scanned=result.get("ScannedCount"))
    return out


@needs("storage.view_table")
async def items(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    if request.headers.get("HX-Request") and request.GET.get("fragment") == "keys":
        # The index changed: only the key condition's fields, for its key schema.
        hash_fields, range_fields = read_forms.key_fields(read_forms.schema_of(table, request.GET.get("index", "")),
                                                          request.GET)
        return await page(request, "items/_key_fields.html", {
            "hash_fields": hash_fields, "range_fields": range_fields, "operators": read_forms.SORT_OPERATORS,
            "rop": request.GET.get("rop", "="), "params": {"rto": request.GET.get("rto", "")}}, "Tables")
    read = await _read(request, table)
    export = request.GET.get("export")
    if export in ("json", "csv") and read["error"] is None:
        return _export(name, key_names(table), read["items"], export)
    index = request.GET.get("index", "")
    schema = read_forms.schema_of(table, index)
    hash_fields, range_fields = read_forms.key_fields(schema, request.GET)
    prev_qs, next_qs, first_qs = read_forms.page_links(request.GET, read["last_key"])
    shown = grid.build(read["items"], key_names(table))
    params = request.GET.copy()
    params.pop("export", None)
    context = {
        "title": f"Items of {name}", "name": name, "table": table, "grid": shown, "error": read["error"],
        "mode": "query" if request.GET.get("mode") == "query" else "scan", "index": index,
        "indexes": read_forms.index_names(table), "hash_fields": hash_fields, "range_fields": range_fields,
        "operators": read_forms.SORT_OPERATORS, "rop": request.GET.get("rop", "="),
        "params": {k: request.GET.get(k, "") for k in ("filter", "values", "names", "projection", "consistent",
                                                          "desc", "rto")}, "size": read_forms.page_size(request.GET), "page_sizes": read_forms.PAGE_SIZES,
        "prev_qs": prev_qs, "next_qs": next_qs, "first_qs": first_qs, "scanned": read["scanned"],
        "export_qs": params.urlencode(), "started": bool(request.GET.get("start")),
        "request_json": orjson.dumps(read["request"], option=orjson.OPT_INDENT_2).decode() if read["request"] else "",
        "here": request.get_full_path(),
    }
    return await page(request, "items/list.html", context, "Tables")


def _export(name: str, key_names_: list[str], found: list[dict[str, Any]], kind: str) -> HttpResponse:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if kind == "json":
        response = HttpResponse(orjson.dumps(found, option=orjson.OPT_INDENT_2), content_type="application/json")
    else:
        columns = grid.columns_of(found, key_names_)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for item in found:
            cells = [grid.plain_cell(item[c]) if c in item else "" for c in columns]
            # A cell a spreadsheet would run as a formula is made plain text (CSV injection).
            writer.writerow(["'" + c if c.startswith(_FORMULA_START) else c for c in cells])
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.{kind}"'
    response["Cache-Control"] = "no-store"
    return response


def _item_url(name: str, key: dict[str, Any]) -> str:
    return reverse("console:item", args=[name]) + "?key=" + tokens.encode(key)


async def _get(request: HttpRequest, name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    return (await call(request, "GetItem", {"TableName": name, "Key": key, "ConsistentRead": True})).get("Item")


@needs("storage.view_table")
async def item_detail(request: HttpRequest, name: str) -> HttpResponse:
    """GET shows the item; POST saves the edit, only if the item is unchanged since it was loaded."""
    table = await describe(request, name)
    keys = key_names(table)
    key = tokens.decode(request.GET.get("key"))
    if key is None:
        raise Http404("Give the item's key.")
    error = conflict = None
    text, fmt = None, request.POST.get("format") or request.GET.get("as") or "plain"
    loaded_token = ""
    if request.method == "POST":
        loaded = tokens.decode(request.POST.get("loaded")) or {}
        text = request.POST.get("document", "")
        edited, error = _parse(text, fmt)
        if error is None:
            saved = await _save(request, name, keys, loaded, edited)
            if saved is None:
                await flash(request, "Saved the item.")
                return HttpResponseRedirect(_item_url(name, item_edit.key_of(edited, keys)))
            error, conflict = saved
        loaded_token = request.POST.get("loaded", "")
    try:
        current = await _get(request, name, key)
    except DynamoDBError as exc:
        current, error = None, error or message_of(exc)
    if current is None and error is None:
        error = "No item with this key."
    plain = plain_item(current) if current else None
    if fmt == "plain" and plain is None:
        fmt = "dynamodb"
    if text is None and current is not None:
        text = dump_plain(plain) if fmt == "plain" else orjson.dumps(current, option=orjson.OPT_INDENT_2).decode()
    if conflict or not loaded_token:
        loaded_token = tokens.encode(current) if current else ""
    context = {
        "title": f"Item in {name}", "name": name, "key": key, "key_token": tokens.encode(key),
        "item": current, "cells": [(k, grid.cell(v)) for k, v in sorted(
            (current or {}).items(), key=lambda kv: (kv[0] not in keys, keys.index(kv[0]) if kv[0] in keys else 0, kv[0]))],
        "plain_possible": plain is not None, "format": fmt, "document": text or "", "loaded": loaded_token,
        "error": error, "conflict": conflict,
        "current_json": orjson.dumps(current, option=orjson.OPT_INDENT_2).decode() if current else "",
    }
    return await page(request, "items/detail.html", context, "Tables")


def _parse(text: str, fmt: str) -> tuple[Any, str | None]:
    try:
        if fmt == "plain":
            return to_dynamo_item(parse_plain(text)), None
        return orjson.loads(text), None
    except (ValueError, orjson.JSONDecodeError) as exc:
        return None, f"Not valid JSON: {exc}"


async def _save(request: HttpRequest, name: str, keys: list[str], loaded: dict[str, Any], edited: Any
                ) -> tuple[str, str | None] | None:
    """None when saved; else (error, conflict text)."""
    if not isinstance(edited, dict):
        try:  # PutItem says what is wrong with it, in DynamoDB's words
            await call(request, "PutItem", {"TableName": name, "Item": edited, "ConditionExpression": "attribute_exists(#k)",
                                            "ExpressionAttributeNames": {"#k": keys[0]}})
        except DynamoDBError as exc:
            return message_of(exc), None
        return None
    planned = item_edit.save_request(name, keys, loaded, edited)
    if planned is None:
        return None
    operation, data = planned
    try:
        await call(request, operation, data)
    except DynamoDBError as exc:
        kind = kind_of(exc)
        if kind == "ConditionalCheckFailedException":
            return (message_of(exc), "Someone changed or deleted this item after you loaded it, so your edit was not "
                                     "saved. The item as it is now is shown below; your text is kept in the editor.")
        if kind == "TransactionCanceledException":
            reasons = item_edit.cancellation_reasons(exc.message)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return message_of(exc) + " (an item with the new key exists already)", None
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return (message_of(exc), "Someone changed or deleted this item after you loaded it, so it was not "
                                         "moved to the new key.")
        return message_of(exc), None
    return None


@needs("storage.view_table")
async def item_create(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    keys = key_names(table)
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    fmt = request.POST.get("format") or request.GET.get("as") or "plain"
    error = None
    if request.method == "POST":
        text = request.POST.get("document", "")
        item, error = _parse(text, fmt)
        if error is None:
            try:
                await call(request, "PutItem", item_edit.create_request(name, keys, item))
            except DynamoDBError as exc:
                error = message_of(exc)
                if kind_of(exc) == "ConditionalCheckFailedException":
                    error += " (an item with this key exists already)"
            else:
                await flash(request, "Created the item.")
                return HttpResponseRedirect(_item_url(name, item_edit.key_of(item, keys)))
    elif fmt == "plain":
        text = dump_plain({k: "" if types[k] != "N" else 0 for k in keys})
    else:
        text = orjson.dumps({k: {types[k]: ""} for k in keys}, option=orjson.OPT_INDENT_2).decode()
    return await page(request, "items/create.html", {"title": f"New item in {name}", "name": name,
                                                     "document": text, "format": fmt, "error": error}, "Tables")


@needs("storage.view_table")
async def items_delete(request: HttpRequest, name: str) -> HttpResponse:
    """Delete the ticked items (a confirmation first), in BatchWriteItem calls of 25."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("console:items", args=[name]))
    table = await describe(request, name)
    selected = [k for k in (tokens.decode(t) for t in request.POST.getlist("key")) if k]
    back = request.POST.get("next") or reverse("console:items", args=[name])
    if not selected:
        await flash(request, "No items were selected.", error=True)
        return back_to(request, reverse("console:items", args=[name]))
    if request.POST.get("confirm") != "yes":
        rows = grid.build(selected, key_names(table))
        return await page(request, "items/delete.html", {
            "title": f"Delete items from {name}", "name": name, "grid": rows, "next": back}, "Tables")
    deleted = 0
    try:
        for i in range(0, len(selected), BATCH):
            requests = [{"DeleteRequest": {"Key": key}} for key in selected[i:i + BATCH]]
            for _ in range(10):  # unprocessed items are retried, as an SDK would
                result = await call(request, "BatchWriteItem", {"RequestItems": {name: requests}})
                left = result.get("UnprocessedItems", {}).get(name, [])
                deleted += len(requests) - len(left)
                if not left:
                    break
                requests = left
    except DynamoDBError as exc:
        await flash(request, f"Deleted {deleted} item(s), then: {message_of(exc)}", error=True)
    else:
        await flash(request, f"Deleted {deleted} item(s).")
    return back_to(request, reverse("console:items", args=[name]))


@needs("storage.view_table")
async def item_delete(request: HttpRequest, name: str) -> HttpResponse:
    key = tokens.decode(request.POST.get("key") or request.GET.get("key"))
    if key is None:
        raise Http404("Give the item's key.")
    if request.method == "POST":
        try:
            await call(request, "DeleteItem", {"TableName": name, "Key": key})
        except DynamoDBError as exc:
            await flash(request, message_of(exc), error=True)
            return HttpResponseRedirect(_item_url(name, key))
        await flash(request, "Deleted the item.")
    return HttpResponseRedirect(reverse("console:items", args=[name]))
