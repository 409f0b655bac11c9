"""The access log: every DynamoDB request (applications' and the console's), read-only,
searchable and filterable, times in UTC, exportable as CSV with the same filters."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict

from storage.access_log_csv import csv_response
from storage.models import AccessLogEntry

from ..access import needs, page

PAGE = 100
_FIELDS = {f.name for f in AccessLogEntry._meta.get_fields()}
# Columns some builds have (error message, latency): shown when the model has them.
OPTIONAL_COLUMNS = [name for name in ("error_message", "latency_ms") if name in _FIELDS]


def _when(text: str) -> datetime | None:
    """A datetime-local value (the console's times are UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def filtered(params: QueryDict) -> QuerySet:
    entries = AccessLogEntry.objects.all()
    q = params.get("q", "").strip()
    if q:
        entries = entries.filter(Q(principal__icontains=q) | Q(access_key_id__icontains=q) | Q(operation__icontains=q)
                                 | Q(table_name__icontains=q) | Q(outcome__icontains=q) | Q(request_id=q)
                                 | Q(source=q))
    outcome = params.get("outcome", "")
    if outcome == "errors":
        entries = entries.exclude(outcome="OK")
    elif outcome:
        entries = entries.filter(outcome=outcome)
    for field in ("operation", "table_name", "principal", "access_key_id"):
        if params.get(field):
            entries = entries.filter(**{field: params[field]})
    since, until = _when(params.get("since", "")), _when(params.get("until", ""))
    if since:
        entries = entries.filter(time__gte=since)
    if until:
        entries = entries.filter(time__lt=until)
    return entries


def _page(params: QueryDict) -> dict[str, Any]:
    entries = filtered(params).order_by("-id")
    try:
        before = int(params.get("before", "0"))
    except ValueError:
        before = 0
    if before:
        entries = entries.filter(id__lt=before)
    rows = list(entries[:PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    following = None
    if more:
        q = params.copy()
        q["before"] = str(rows[-1].id)
        following = q.urlencode()
    base = params.copy()
    base.pop("before", None)
    recent = AccessLogEntry.objects.order_by("-id")[:2000]
    return {"entries": rows, "next_qs": following, "filters_qs": base.urlencode(),
            "operations": sorted({e for e in recent.values_list("operation", flat=True)}),
            "outcomes": sorted({e for e in recent.values_list("outcome", flat=True)})}


@needs("storage.view_accesslogentry")
async def access_log(request: HttpRequest) -> HttpResponse:
    found = await sync_to_async(_page)(request.GET)
    return await page(request, "log/list.html", {"title": "Access log", "params": request.GET.dict(),
                                                 "optional_columns": OPTIONAL_COLUMNS, **found}, "Access log")


@needs("storage.view_accesslogentry")
async def export(request: HttpRequest) -> HttpResponse:
    return csv_response(filtered(request.GET))
