"""Settings: what this server runs with (read-only: settings come from the environment)."""
from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .. import about
from ..access import needs, page

# (environment variable, setting, what it means); see the README's configuration table.
SHOWN = (
    ("EXTENDDB_REGION", "EXTENDDB_REGION", "region clients sign for, reported in ARNs"),
    ("EXTENDDB_ACCOUNT_ID", "EXTENDDB_ACCOUNT_ID", "account reported in ARNs"),
    ("EXTENDDB_HOST / EXTENDDB_PORT", None, "HTTPS listen address"),
    ("EXTENDDB_WORKERS", "EXTENDDB_WORKERS", "server worker processes"),
    ("EXTENDDB_MAX_INFLIGHT", "EXTENDDB_MAX_INFLIGHT", "requests per worker at once"),
    ("EXTENDDB_ACCESS_LOG", "EXTENDDB_ACCESS_LOG", "record every request in the access log"),
    ("EXTENDDB_ACCESS_LOG_RETENTION_DAYS", "EXTENDDB_ACCESS_LOG_RETENTION_DAYS", "days access-log entries are kept (0: for ever)"),
    ("EXTENDDB_TTL_SWEEP_SECONDS", "EXTENDDB_TTL_SWEEP_SECONDS", "seconds between Time to Live sweeps"),
    ("EXTENDDB_STREAM_ITERATOR_SECONDS", "EXTENDDB_STREAM_ITERATOR_SECONDS", "lifetime of shard iterators"),
    ("EXTENDDB_S3_ROOT", "EXTENDDB_S3_ROOT", "folder standing in for S3 (imports and exports)"),
    ("EXTENDDB_ADMIN_LOGIN_FAILURES", "AXES_FAILURE_LIMIT", "failed sign-ins before a lock-out"),
    ("EXTENDDB_ADMIN_LOCKOUT_HOURS", "AXES_COOLOFF_TIME", "hours a lock-out lasts"),
    ("EXTENDDB_ADMIN_SESSION_SECONDS", "SESSION_COOKIE_AGE", "console session lifetime"),
    ("EXTENDDB_HSTS_SECONDS", "SECURE_HSTS_SECONDS", "Strict-Transport-Security max-age"),
)


def _rows() -> list[dict[str, str]]:
    rows = []
    for variable, name, meaning in SHOWN:
        if name is None:
            value = f"{settings.EXTENDDB_HOST}:{settings.EXTENDDB_PORT}"
        else:
            value = str(getattr(settings, name, ""))
        rows.append({"variable": variable, "value": value, "meaning": meaning})
    return rows


@needs("staff")
async def settings_page(request: HttpRequest) -> HttpResponse:
    facts = await sync_to_async(lambda: {"rows": _rows(), "version": about.server_version(),
                                         "database": about.database(), "data_dir": str(settings.DATA_DIR)})()
    return await page(request, "settings.html", {"title": "Settings", **facts}, "Settings")
