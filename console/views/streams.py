"""Streams: the tables' change streams, and a live tail of one (console.consumers)."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ..access import needs, page
from ..calls import DynamoDBError, call, message_of
from .common import describe, optional


@needs("storage.view_table")
async def stream_list(request: HttpRequest) -> HttpResponse:
    rows: list[dict[str, Any]] = []
    error = None
    try:
        listed = await call(request, "ListStreams", {"Limit": 100}, service="dynamodbstreams")
        for stream in listed.get("Streams", []):
            described = await optional(request, "DescribeStream", {"StreamArn": stream["StreamArn"]},
                                       service="dynamodbstreams")
            info = (described or {}).get("StreamDescription", {})
            rows.append({**stream, "status": info.get("StreamStatus", ""), "view": info.get("StreamViewType", "")})
    except DynamoDBError as exc:
        error = message_of(exc)
    return await page(request, "streams/list.html", {"title": "Streams", "streams": rows, "error": error}, "Streams")


@needs("storage.view_table")
async def tail(request: HttpRequest, name: str) -> HttpResponse:
    table = await describe(request, name)
    stream = table.get("StreamSpecification", {})
    start = "trim_horizon" if request.GET.get("from") == "trim_horizon" else "latest"
    context = {"title": f"Stream of {name}", "name": name, "enabled": stream.get("StreamEnabled", False),
               "view": stream.get("StreamViewType", ""), "arn": table.get("LatestStreamArn", ""), "start": start,
               "ws_path": reverse("console:stream_tail", args=[name]).replace("/console/streams/",
                                                                              "/console/ws/streams/", 1)
               + f"?from={start}"}
    return await page(request, "streams/tail.html", context, "Streams")
