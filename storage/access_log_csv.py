"""The access log as CSV, streamed so a long log never sits in memory whole."""
from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import datetime, timezone

from asgiref.sync import sync_to_async
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

COLUMNS = ("time", "principal", "access_key_id", "operation", "table_name", "outcome", "source", "request_id",
           "error_message", "latency_ms")
CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """csv.writer wants a file; this one hands back each written line."""

    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.astimezone(timezone.utc).isoformat() if isinstance(value, datetime) else str(value)
    # A cell that a spreadsheet would run as a formula is made plain text (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


async def _lines(queryset: QuerySet) -> AsyncIterator[str]:
    writer = csv.writer(_Line())
    yield writer.writerow(COLUMNS)
    # Keyset pages in id (insertion) order: no cursor held open between chunks.
    ordered = queryset.order_by("id").values_list("id", *COLUMNS)
    last = 0
    while True:
        chunk = await sync_to_async(list)(ordered.filter(id__gt=last)[:CHUNK])
        for row in chunk:
            yield writer.writerow([_cell(v) for v in row[1:]])
        if len(chunk) < CHUNK:
            return
        last = chunk[-1][0]


def csv_response(queryset: QuerySet) -> StreamingHttpResponse:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    response = StreamingHttpResponse(_lines(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="extenddb-access-log-{stamp}.csv"'
    return response
