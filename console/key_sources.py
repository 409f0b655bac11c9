"""Where each access key was last used from, read from the access log.

last_used_at is written at most once a minute per key and worker
(wireapi.credentials), so the key's last request lies within a few minutes
after it: only that stretch of the time-indexed log is read, never the
whole log.
"""
from __future__ import annotations

from datetime import timedelta

from accounts.models import AccessKey
from storage.models import AccessLogEntry

BEFORE, AFTER = timedelta(minutes=2), timedelta(minutes=5)


def last_source(key: AccessKey) -> str:
    if key.last_used_at is None:
        return ""
    entry = (AccessLogEntry.objects.filter(access_key_id=key.access_key_id,
                                           time__gte=key.last_used_at - BEFORE, time__lte=key.last_used_at + AFTER)
             .order_by("-time").values_list("source", flat=True).first())
    return entry or ""
