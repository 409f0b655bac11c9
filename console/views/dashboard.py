"""The dashboard: tables at a glance, the last hour's traffic, keys nobody uses, the server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from accounts.models import AccessKey

from .. import about, activity
from ..access import needs, page
from ..calls import DynamoDBError, message_of
from .tables import summaries

UNUSED_DAYS = 90


def _unused_keys() -> list[AccessKey]:
    cutoff = datetime.now(timezone.utc) - timedelta(days=UNUSED_DAYS)
    unused = Q(last_used_at__lt=cutoff) | Q(last_used_at__isnull=True, created_at__lt=cutoff)
    return list(AccessKey.objects.filter(unused, status=AccessKey.ACTIVE).select_related("user")[:100])


def _facts(user) -> dict:
    """What this administrator may see: traffic with table rights, keys with key rights."""
    counts = activity.per_table() if user.has_perm("storage.view_table") else {}
    return {"counts": counts, "totals": activity.totals(counts),
            "unused": _unused_keys() if user.has_perm("accounts.view_accesskey") else None,
            "version": about.server_version(), "database": about.database(),
            "access_log_on": settings.EXTENDDB_ACCESS_LOG}


@needs("staff")
async def dashboard(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    tables, error = [], None
    if await user.ahas_perm("storage.view_table"):
        try:
            tables, _ = await summaries(request)
        except DynamoDBError as exc:
            error = message_of(exc)
    facts = await sync_to_async(_facts)(user)
    for t in tables:
        t.update(facts["counts"].get(t["name"], {}))
    context = {"title": "Dashboard", "tables": tables, "activity": True, "error": error,
               "unused_days": UNUSED_DAYS, "table_count": len(tables),
               "item_count": sum(t["items"] for t in tables), **facts}
    return await page(request, "dashboard.html", context, "Dashboard")
