"""What the table browser's pages share: access checks, rendering, keys and page tokens."""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import orjson
from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode

from .browser_calls import DynamoDBError, call, message_of
from .browser_forms import plain, typed

PAGE_SIZES = (10, 25, 50, 100)


def needs(permission: str):
    """Staff status (else the sign-in page), then the permission (else 403)."""
    def wrap(view):
        return staff_member_required(permission_required(f"storage.{permission}_table", raise_exception=True)(view))
    return wrap


async def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    def build() -> HttpResponse:
        full = {**admin.site.each_context(request), **context}
        response = render(request, f"browser/{template}", full, status=status)
        add_never_cache_headers(response)  # table data must not linger in caches
        return response

    return await sync_to_async(build)()


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def encode_start(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_start(text: str) -> dict[str, Any] | None:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def page_size(request: HttpRequest) -> int:
    try:
        size = int(request.GET.get("size", 25))
    except ValueError:
        return 25
    return size if size in PAGE_SIZES else 25


async def describe(request: HttpRequest, name: str) -> dict[str, Any]:
    try:
        return (await call(request, "DescribeTable", {"TableName": name}))["Table"]
    except DynamoDBError as exc:
        raise Http404(message_of(exc)) from None


def key_names(table: dict[str, Any]) -> list[str]:
    return [k["AttributeName"] for k in table["KeySchema"]]


def attribute_types(table: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}


def item_url(name: str, table: dict[str, Any], item: dict[str, Any]) -> str | None:
    names = key_names(table)
    if any(n not in item for n in names):
        return None
    params = {"hash": plain(item[names[0]])}
    if len(names) > 1:
        params["range"] = plain(item[names[1]])
    return reverse("browser:item", args=[name]) + "?" + urlencode(params)


def item_rows(name: str, table: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = key_names(table)
    rows = []
    for item in items:
        rest = {k: v for k, v in item.items() if k not in names}
        summary = orjson.dumps(rest).decode()
        rows.append({"keys": [plain(item.get(n, {})) for n in names],
                     "summary": summary if len(summary) <= 200 else summary[:197] + "...",
                     "url": item_url(name, table, item)})
    return rows


def key_from(params: Any, table: dict[str, Any]) -> dict[str, Any] | None:
    """The primary key named by ?hash=…&range=…, typed by the table's definitions."""
    names, types = key_names(table), attribute_types(table)
    if "hash" not in params or (len(names) > 1 and "range" not in params):
        return None
    key = {names[0]: typed(params["hash"], types[names[0]])}
    if len(names) > 1:
        key[names[1]] = typed(params["range"], types[names[1]])
    return key
