"""What each answered request leaves for operators: its metrics and, when
EXTENDDB_REQUEST_LOG is on (and the level lets INFO through), one log line
(extenddb_site.logs.request_lines: JSON or text, like every other line).
Called once per request by wireapi.app, after the answer went out.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings

from extenddb_site import logs, metrics

request_log = logging.getLogger("extenddb.request")
_THROTTLED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})
_log_requests: bool | None = None


def start() -> None:
    """In each worker at startup: the gauges sampled at every flush, and the flush task."""
    metrics.add_sampler(_sample_worker)
    metrics.add_sampler(logs.request_lines.flush)
    metrics.families()
    metrics.flush()
    metrics.start_flushing()


def stop() -> None:
    metrics.stop()
    logs.request_lines.flush()


def request(scope: dict, request_id: str, seen: Any, outcome: str, status: int, started: float,
            received: int, sent: int) -> None:
    """One answered request (seen: wireapi.app's _Seen). Must never raise."""
    global _log_requests
    seconds = time.perf_counter() - started
    try:
        metrics.record_request(seen.operation, seen.table_name, outcome, seconds, received, sent)
        if outcome in _THROTTLED:
            metrics.throttled(seen.operation or metrics.NONE, seen.table_name)
        if _log_requests is None:
            _log_requests = bool(settings.EXTENDDB_REQUEST_LOG) and request_log.isEnabledFor(logging.INFO)
        if _log_requests:
            client = scope.get("client")
            logs.request_lines.add(f"{seen.operation or '-'} {seen.table_name or '-'} {outcome}", {
                "request_id": request_id, "principal": seen.principal, "access_key_id": seen.access_key_id,
                "operation": seen.operation, "table": seen.table_name, "outcome": outcome, "status": status,
                "latency_ms": round(seconds * 1000, 3), "bytes_in": received, "bytes_out": sent,
                "client": client[0] if client else None})
    except Exception:  # observing a request must never fail it
        logging.getLogger("extenddb.metrics").exception("could not record request %s", request_id)


def shed() -> None:
    """A request answered 503 at once: the worker's in-flight cap."""
    metrics.request_shed()


_pool_seen: dict[tuple[str, str], int] = {}
_dropped_seen = [0]


def _sample_worker() -> None:
    from . import app, audit
    from .runtime import _runtime

    f = metrics.families()
    f.inflight.set(app._inflight)
    dropped = audit.dropped()
    if dropped > _dropped_seen[0]:
        f.access_log_dropped.inc(dropped - _dropped_seen[0])
        _dropped_seen[0] = dropped
    if _runtime is None:
        return
    for replica, lag in _runtime.backend.replica_lags().items():
        f.replica_lag.labels(replica).set(lag)
    for pool, stats in _runtime.backend.pool_stats().items():
        size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
        f.pool_connections.labels(pool, "in_use").set(size - idle)
        f.pool_connections.labels(pool, "idle").set(idle)
        f.pool_max.labels(pool).set(stats.get("pool_max", 0))
        f.pool_waiting.labels(pool).set(stats.get("requests_waiting", 0))
        # psycopg_pool's counters only grow (nobody pops them): add what is new since the last flush.
        for stat, metric, labels, scale in (
                ("requests_wait_ms", f.pool_wait, (pool,), 0.001),
                ("connections_errors", f.pool_errors, (pool, "connect"), 1),
                ("requests_errors", f.pool_errors, (pool, "timeout"), 1),
                ("connections_lost", f.pool_errors, (pool, "lost"), 1)):
            value = stats.get(stat, 0)
            before = _pool_seen.get((pool, stat), 0)
            if value > before:
                metric.labels(*labels).inc((value - before) * scale)
                _pool_seen[(pool, stat)] = value
