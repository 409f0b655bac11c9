"""Prometheus metrics: what each process counts, and how /metrics reads them all.

Every process of a server (the uvicorn workers, the background process) counts
into memory: a request costs a few dictionary updates, no lock, no file. A task
on the worker's event loop flushes the counts into prometheus-client's
multi-process files once a second (FLUSH_SECONDS), and samples the gauges (in
flight, connection pools) at the same moment. /metrics, answered by any worker,
merges every process's files (prometheus_client.multiprocess), so a scrape is
at most a second behind.

The files live in a directory of this server start (`serve` makes it, under the
data directory, and removes those of servers that are gone: several servers may
share a database, but each has its own data directory and its own counts).
Without PROMETHEUS_MULTIPROC_DIR (a management command, bench/micro.py) the
counts stay in this process.

Labels are bounded whatever clients send: operations are botocore's names (or
"-"), outcomes DynamoDB's error types, and a table name becomes a label only
after a request on it succeeded, for at most MAX_TABLE_LABELS tables per
process; past that, and for names never seen succeeding, the label is
"_other". A client inventing table names gets ResourceNotFoundException and
adds no series.

Hooks for other modules: record_request (wireapi.app, after each response),
throttled (capacity enforcement), consumed (consumed capacity units),
job_started/job_finished (background jobs, via extenddb_site.joblog),
add_sampler (gauges read at each flush: in flight, pools and replica lag in
wireapi.observe).
"""
from __future__ import annotations

import asyncio
import glob
import logging
import os
import shutil
import time
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("extenddb.metrics")

ENV = "PROMETHEUS_MULTIPROC_DIR"
FLUSH_SECONDS = 1.0
MAX_TABLE_LABELS = 200
OTHER = "_other"
NONE = "-"
# Seconds; DynamoDB point operations are expected in single-digit milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
JOB_BUCKETS = (0.1, 1.0, 10.0, 60.0, 300.0, 1800.0, 3600.0, 4 * 3600.0)


# --- the multi-process directory (called by `serve` before anything imports prometheus_client) ---

def prepare_directory(data_dir: Path, server_pid: int) -> Path:
    """A fresh directory for this server start; those of servers no longer running are removed."""
    root = data_dir / "metrics"
    root.mkdir(mode=0o700, exist_ok=True)
    for entry in root.iterdir():
        if entry.name.isdigit() and int(entry.name) != server_pid and not _alive(int(entry.name)):
            shutil.rmtree(entry, ignore_errors=True)
    path = root / str(server_pid)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700)
    os.environ[ENV] = str(path)
    return path


def remove_directory() -> None:
    """At the end of `serve`: its counts go with it."""
    path = os.environ.get(ENV)
    if path:
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_gone(pid: int) -> None:
    """A worker died: its gauges (in flight, pools) no longer count; its counters still do."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# --- the metric families (built on first use, once the environment is settled) ---

class _Families:
    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        from .version import __version__

        self.requests = Counter("extenddb_requests", "Requests answered, by operation, table and outcome "
                                "(OK or the DynamoDB error type)", ["operation", "table", "outcome"])
        self.latency = Histogram("extenddb_request_duration_seconds", "Time from the request's arrival to "
                                 "its answer", ["operation"], buckets=LATENCY_BUCKETS)
        self.received = Counter("extenddb_request_bytes", "Request body bytes received", ["operation"])
        self.sent = Counter("extenddb_response_bytes", "Response body bytes sent", ["operation"])
        self.read_units = Counter("extenddb_consumed_read_capacity_units", "Read capacity units consumed",
                                  ["table"])
        self.write_units = Counter("extenddb_consumed_write_capacity_units", "Write capacity units consumed",
                                   ["table"])
        self.throttled = Counter("extenddb_throttled_requests", "Requests refused for capacity "
                                 "(ProvisionedThroughputExceededException, ThrottlingException)",
                                 ["operation", "table"])
        self.shed = Counter("extenddb_shed_requests", "Requests refused at once with 503 because the worker "
                            "had EXTENDDB_MAX_INFLIGHT requests in flight")
        self.inflight = Gauge("extenddb_inflight_requests", "Requests being handled now",
                              multiprocess_mode="livesum")
        self.pool_connections = Gauge("extenddb_db_pool_connections", "Database connections of the "
                                      "pools, by state (in_use, idle)", ["pool", "state"],
                                      multiprocess_mode="livesum")
        self.pool_max = Gauge("extenddb_db_pool_max_connections", "Most connections the pools may open",
                              ["pool"], multiprocess_mode="livesum")
        self.pool_waiting = Gauge("extenddb_db_pool_waiting_requests", "Requests waiting for a connection",
                                  ["pool"], multiprocess_mode="livesum")
        self.pool_wait = Counter("extenddb_db_pool_wait_seconds", "Time requests spent waiting for a "
                                 "connection", ["pool"])
        self.pool_errors = Counter("extenddb_db_pool_errors", "Connection failures (connect), timeouts "
                                   "waiting for a connection (timeout) and connections lost (lost)",
                                   ["pool", "kind"])
        self.jobs = Counter("extenddb_background_jobs", "Background jobs ended, by kind and outcome",
                            ["kind", "outcome"])
        self.jobs_running = Gauge("extenddb_background_jobs_running", "Background jobs running now", ["kind"],
                                  multiprocess_mode="livesum")
        self.job_duration = Histogram("extenddb_background_job_duration_seconds", "Duration of background "
                                      "jobs", ["kind"], buckets=JOB_BUCKETS)
        self.job_success = Gauge("extenddb_background_job_last_success_timestamp_seconds", "When a job of "
                                 "this kind last ended well (Unix time)", ["kind"], multiprocess_mode="max")
        self.replica_lag = Gauge("extenddb_replica_lag_seconds", "How far a read replica's replay is behind "
                                 "the primary", ["replica"], multiprocess_mode="livemax")
        self.access_log_dropped = Counter("extenddb_access_log_dropped", "Access-log entries lost because "
                                          "the database could not take them (bounded buffer full)")
        self.build = Gauge("extenddb_build_info", "The running version (always 1)", ["version"],
                           multiprocess_mode="max")
        self.build.labels(__version__).set(1)


_families: _Families | None = None


def families() -> _Families:
    global _families
    if _families is None:
        _families = _Families()
    return _families


# --- what a process has counted since its last flush ----------------------------------

class _OperationCounts:
    __slots__ = ("buckets", "seconds", "received", "sent")

    def __init__(self) -> None:
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.seconds = 0.0
        self.received = self.sent = 0


_requests: dict[tuple[str, str, str], int] = {}
_operations: dict[str, _OperationCounts] = {}
_read_units: dict[str, float] = {}
_write_units: dict[str, float] = {}
_throttled: dict[tuple[str, str], int] = {}
_shed = [0]
_tables: set[str] = set()
_samplers: list[Callable[[], None]] = []
_flusher: asyncio.Task | None = None


def table_label(name: str | None, succeeded: bool) -> str:
    """The bounded label of a table name (an ARN counts as its table)."""
    if not name:
        return NONE
    if name in _tables:
        return name
    if name.startswith("arn:"):
        return table_label(name.rpartition("/")[2] if "/" in name else "", succeeded)
    if succeeded and len(_tables) < MAX_TABLE_LABELS:
        _tables.add(name)
        return name
    return OTHER


def record_request(operation: str | None, table: str | None, outcome: str, seconds: float,
                   received: int, sent: int) -> None:
    """One answered request. Memory only: a few dictionary updates (see bench/micro.py)."""
    operation = operation or NONE
    key = (operation, table_label(table, outcome == "OK"), outcome)
    _requests[key] = _requests.get(key, 0) + 1
    counts = _operations.get(operation)
    if counts is None:
        counts = _operations[operation] = _OperationCounts()
    counts.buckets[bisect_left(LATENCY_BUCKETS, seconds)] += 1
    counts.seconds += seconds
    counts.received += received
    counts.sent += sent
    if _flusher is None:
        start_flushing()


def request_shed() -> None:
    """A request refused with 503 at once (the worker's in-flight cap)."""
    _shed[0] += 1


def throttled(operation: str, table: str | None) -> None:
    """A request refused for capacity (capacity enforcement calls this)."""
    key = (operation, table_label(table, True))
    _throttled[key] = _throttled.get(key, 0) + 1


def consumed(table: str, read_units: float = 0.0, write_units: float = 0.0) -> None:
    """Capacity units a request consumed on a table."""
    label = table_label(table, True)
    if read_units:
        _read_units[label] = _read_units.get(label, 0.0) + read_units
    if write_units:
        _write_units[label] = _write_units.get(label, 0.0) + write_units


def add_sampler(sample: Callable[[], None]) -> None:
    """A function called at each flush to set gauges (in flight, pools, dropped log entries)."""
    _samplers.append(sample)


def job_started(kind: str) -> None:
    families().jobs_running.labels(kind).inc()


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    f = families()
    f.jobs_running.labels(kind).dec()
    f.jobs.labels(kind, outcome).inc()
    f.job_duration.labels(kind).observe(seconds)
    if outcome == "ok":
        f.job_success.labels(kind).set(time.time())


# --- flushing ------------------------------------------------------------------

def flush() -> None:
    """Move what was counted into the shared files and sample the gauges."""
    global _requests, _operations, _read_units, _write_units, _throttled
    f = families()
    requests, _requests = _requests, {}
    operations, _operations = _operations, {}
    read_units, _read_units = _read_units, {}
    write_units, _write_units = _write_units, {}
    throttles, _throttled = _throttled, {}
    for (operation, table, outcome), n in requests.items():
        f.requests.labels(operation, table, outcome).inc(n)
    for operation, counts in operations.items():
        _add_to_histogram(f.latency.labels(operation), counts.buckets, counts.seconds)
        f.received.labels(operation).inc(counts.received)
        f.sent.labels(operation).inc(counts.sent)
    for table, units in read_units.items():
        f.read_units.labels(table).inc(units)
    for table, units in write_units.items():
        f.write_units.labels(table).inc(units)
    for (operation, table), n in throttles.items():
        f.throttled.labels(operation, table).inc(n)
    if _shed[0]:
        shed, _shed[0] = _shed[0], 0
        f.shed.inc(shed)
    for sample in _samplers:
        try:
            sample()
        except Exception:  # a gauge that cannot be read must not stop the counters
            log.exception("metrics: sampler %r failed", sample)


def _add_to_histogram(child: Any, buckets: list[int], seconds: float) -> None:
    # prometheus-client observes one value at a time; a flush adds a second's worth of
    # observations to the same per-bucket values observe() would have incremented.
    for value, n in zip(child._buckets, buckets):
        if n:
            value.inc(n)
    child._sum.inc(seconds)


def start_flushing() -> None:
    global _flusher
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    _flusher = loop.create_task(_flush_forever(), name="extenddb-metrics")


async def _flush_forever() -> None:
    global _flusher
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            flush()
    finally:
        _flusher = None


def stop() -> None:
    """At shutdown: the last counts."""
    if _flusher is not None:
        _flusher.cancel()
    try:
        flush()
    except FileNotFoundError:  # the server removed this start's metrics directory already
        pass


# --- exposition (/metrics) ------------------------------------------------------

def exposition() -> tuple[bytes, str]:
    """Every process's metrics in Prometheus's text format, and its content type.

    Families no process has a sample of yet (no throttle so far, no replica) are
    listed too, without samples, so a scrape always names everything exported."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    if not os.environ.get(ENV):
        flush()
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    registry.register(_AllProcesses())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _sized(path: str) -> bool:
    try:
        return os.path.getsize(path) >= 8  # the header: the used length, then padding
    except OSError:  # a dead process's live-gauge file, removed since the glob
        return False


class _AllProcesses:
    """prometheus-client's multi-process merge, plus the declared families it has not seen."""

    def collect(self) -> Any:
        from prometheus_client import multiprocess

        # prometheus-client creates a process's file empty and sizes it a moment later; its own
        # collect() fails on a file read in between (struct.error), so /metrics answered 500 while
        # a worker started. Such a file holds no samples yet: skip it.
        folder = os.environ[ENV]
        files = [path for path in glob.glob(os.path.join(folder, "*.db")) if _sized(path)]
        seen = set()
        for family in multiprocess.MultiProcessCollector.merge(files, accumulate=True):
            seen.add(family.name)
            yield family
        for metric in vars(families()).values():
            for family in metric.describe():
                if family.name not in seen:
                    yield family
