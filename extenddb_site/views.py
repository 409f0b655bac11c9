"""Operator endpoints on the HTTPS port: /health (liveness), /ready
(readiness) and /metrics (Prometheus). docs/operations.md describes them."""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
from functools import cache

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from .version import __version__

READY_TIMEOUT_SECONDS = 2.0


@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked (a database outage is /ready's)."""
    return JsonResponse({"status": "ok", "version": __version__})


@never_cache
async def ready(request: HttpRequest) -> JsonResponse:
    """200 when this worker can serve: its database answers and every migration is applied; else 503."""
    try:
        await asyncio.wait_for(_database_answers(), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure is a reason not to send traffic here
        reason = "database did not answer in time" if isinstance(exc, TimeoutError) else (
            f"database unreachable: {type(exc).__name__}: {exc}".strip())
        return _not_ready(reason)
    pending = await sync_to_async(_pending_migrations)()
    if pending:
        return _not_ready(f"{len(pending)} migration(s) not applied (run manage.py migrate): "
                          + ", ".join(pending[:5]))
    return JsonResponse({"status": "ready", "version": __version__})


def _not_ready(reason: str) -> JsonResponse:
    return JsonResponse({"status": "not ready", "reason": reason, "version": __version__}, status=503)


async def _database_answers() -> None:
    # The data path's own connections (the worker's pool), not the ORM's.
    from wireapi.runtime import get_runtime

    await get_runtime().backend.list_table_names(None, 1)


def _pending_migrations() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return [f"{m.app_label}.{m.name}" for m, _backwards in plan]
    finally:
        connection.close()


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Every process's metrics, to loopback (EXTENDDB_METRICS_ALLOWED_NETWORKS) or a bearer of the token."""
    if not _may_scrape(request):
        return HttpResponse("Forbidden: /metrics answers the networks in EXTENDDB_METRICS_ALLOWED_NETWORKS, "
                            "or a request with the bearer token EXTENDDB_METRICS_TOKEN\n",
                            status=403, content_type="text/plain")
    from . import metrics as metrics_module

    body, content_type = metrics_module.exposition()
    return HttpResponse(body, content_type=content_type)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.EXTENDDB_METRICS_TOKEN
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _allowed_networks())


@cache
def _allowed_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in settings.EXTENDDB_METRICS_ALLOWED_NETWORKS if n)
