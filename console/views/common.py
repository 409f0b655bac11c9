"""What the data pages share: describing a table, flash messages, safe redirects."""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from ..calls import DynamoDBError, call, message_of


async def describe(request: HttpRequest, name: str) -> dict[str, Any]:
    try:
        return (await call(request, "DescribeTable", {"TableName": name}))["Table"]
    except DynamoDBError as exc:
        if exc.type_name.endswith("ResourceNotFoundException"):
            raise Http404(message_of(exc)) from None
        raise


async def optional(request: HttpRequest, operation: str, data: dict[str, Any], service: str = "dynamodb"
                   ) -> dict[str, Any] | None:
    """A read whose failure only leaves a detail out of the page."""
    try:
        return await call(request, operation, data, service)
    except DynamoDBError:
        return None


async def flash(request: HttpRequest, text: str, error: bool = False) -> None:
    await sync_to_async(messages.error if error else messages.success)(request, text)


def back_to(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    """Redirect to the form's `next` if it is one of ours, else to fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=True):
        target = fallback
    return HttpResponseRedirect(target)


def key_names(table: dict[str, Any]) -> list[str]:
    """The table's key attributes, partition key first."""
    return [k["AttributeName"] for k in sorted(table["KeySchema"], key=lambda k: k["KeyType"] != "HASH")]


def attribute_types(table: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}


def index_summaries(table: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for kind, listed in (("Global", table.get("GlobalSecondaryIndexes", [])),
                         ("Local", table.get("LocalSecondaryIndexes", []))):
        for index in listed:
            out.append({"name": index["IndexName"], "kind": kind, "status": index.get("IndexStatus", "ACTIVE"),
                        "hash": [k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"],
                        "range": [k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "RANGE"],
                        "projection": index.get("Projection", {}).get("ProjectionType", ""),
                        "items": index.get("ItemCount", 0), "size": index.get("IndexSizeBytes", 0)})
    return out


async def run_and_flash(request: HttpRequest, planned, service: str = "dynamodb") -> None:
    """Run the (operation, request, success text) a form stands for; the outcome becomes the
    page's message. `planned` is a callable, so its ValueError (a form mistake) is shown too."""
    try:
        operation, data, done = planned()
        await call(request, operation, data, service)
    except ValueError as exc:
        await flash(request, str(exc), error=True)
    except DynamoDBError as exc:
        await flash(request, message_of(exc), error=True)
    else:
        await flash(request, done)
