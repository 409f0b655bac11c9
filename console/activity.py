"""Requests and errors per table over the last hour, from the access log.

The access log (ddb_access_log) is written by every server of a cluster into
the shared database, so these counts cover the whole cluster; a process's
own metrics would cover that process only. The console's own calls
("admin:…" principals) are left out: they are not the applications' traffic.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.db.models import Count, Q

from storage.models import AccessLogEntry

WINDOW = timedelta(hours=1)


def per_table(now: datetime | None = None) -> dict[str, dict[str, int]]:
    since = (now or datetime.now(timezone.utc)) - WINDOW
    rows = (AccessLogEntry.objects.filter(time__gte=since).exclude(principal__startswith="admin:")
            .values("table_name").annotate(requests=Count("id"), errors=Count("id", filter=~Q(outcome="OK"))))
    return {r["table_name"]: {"requests": r["requests"], "errors": r["errors"]} for r in rows}


def totals(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    return {"requests": sum(c["requests"] for c in counts.values()),
            "errors": sum(c["errors"] for c in counts.values())}
