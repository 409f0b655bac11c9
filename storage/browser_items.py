"""The table browser's item pages: view, edit, create and delete one item as DynamoDB JSON."""
from __future__ import annotations

from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .browser_calls import DynamoDBError, call, message_of
from .browser_common import describe, item_url, key_from, key_names, needs, page, pretty, attribute_types
from .browser_forms import ItemForm


def _parse_item(text: str) -> tuple[Any, str | None]:
    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError as exc:
        return None, f"Not valid JSON: {exc}"


@needs("view")
async def item_detail(request: HttpRequest, name: str) -> HttpResponse:
    """GetItem by ?hash=…&range=…; POST saves the edited item (PutItem) or moves it to a new key."""
    table = await describe(request, name)
    try:
        key = key_from(request.GET, table)
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
                return HttpResponseRedirect(item_url(name, table, new_item) or reverse("browser:table", args=[name]))
    if not form.is_bound and item is not None:
        form = ItemForm(initial={"item": pretty(item)})
    context = {"title": f"Item in {name}", "name": name, "item": item, "item_json": pretty(item) if item else "",
               "form": form, "error": error, "key": key, "query": request.GET.urlencode()}
    return await page(request, "item_detail.html", context)


async def _save(request: HttpRequest, name: str, table: dict[str, Any], key: dict[str, Any], item: Any) -> None:
    """PutItem; if the key was edited, the old item goes in the same transaction."""
    names = key_names(table)
    moved = isinstance(item, dict) and any(item.get(n) != key[n] for n in names if n in item)
    if not moved:
        await call(request, "PutItem", {"TableName": name, "Item": item})
        return
    await call(request, "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": name, "Item": item}},
        {"Delete": {"TableName": name, "Key": key}},
    ]})


@needs("change")
async def item_create(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    types = attribute_types(table)
    skeleton = {n: {types[n]: ""} for n in key_names(table)}
    form = ItemForm(request.POST or None, initial={"item": pretty(skeleton)})
    if request.method == "POST" and form.is_valid():
        item, problem = _parse_item(form.cleaned_data["item"])
        if problem:
            form.add_error("item", problem)
        else:
            first = key_names(table)[0]
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
                return HttpResponseRedirect(item_url(name, table, item) or reverse("browser:table", args=[name]))
    return await page(request, "item_create.html", {"title": f"New item in {name}", "name": name, "form": form})


@needs("change")
async def item_delete(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    try:
        key = key_from(request.GET, table)
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
    return await page(request, "item_delete.html", {"title": f"Delete item from {name}", "name": name,
                                                     "key_json": pretty(key), "error": error,
                                                     "query": request.GET.urlencode()})
