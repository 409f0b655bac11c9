"""Start, progress and end of long work (TTL sweeps, imports, exports,
restores): a log line each on the `extenddb.jobs` logger, and the
extenddb_background_job* metrics.

    async with joblog.job("export", arn=job.arn, table=name) as report:
        ...
        joblog.progress(items=n)        # the current job's; logged at most every PROGRESS_LOG_SECONDS
        report.outcome = "failed"       # when the work ends badly without raising
        report.result(deleted=n)        # counts for the end line

An exception leaving the block ends the job as "failed" (and goes on). A
`quiet` job (the TTL sweep, every 30 s) logs at DEBUG unless its counts show
it did something.
"""
from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from . import metrics

log = logging.getLogger("extenddb.jobs")

PROGRESS_LOG_SECONDS = 10.0
_current: ContextVar[JobReport | None] = ContextVar("extenddb_job", default=None)


class JobReport:
    """One job's fields (named in every line), counts and outcome."""

    def __init__(self, kind: str, fields: dict[str, Any]) -> None:
        self.kind, self.fields = kind, fields
        self.outcome = "ok"
        self.started = time.monotonic()
        self._last_progress = self.started
        self.counts: dict[str, Any] = {}

    def progress(self, **counts: Any) -> None:
        self.counts.update(counts)
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_LOG_SECONDS:
            self._last_progress = now
            log.info("%s in progress", self.kind, extra={"job": self.kind, "event": "progress", **self.fields,
                                                         **self.counts})

    def result(self, **counts: Any) -> None:
        """Counts to report at the end (items deleted, imported…)."""
        self.counts.update(counts)


def progress(**counts: Any) -> None:
    """Progress of the job this task is running, if any."""
    report = _current.get()
    if report is not None:
        report.progress(**counts)


@asynccontextmanager
async def job(kind: str, quiet: bool = False, **fields: Any) -> AsyncIterator[JobReport]:
    report = JobReport(kind, fields)
    log.log(logging.DEBUG if quiet else logging.INFO, "%s started", kind,
            extra={"job": kind, "event": "start", **fields})
    _count(metrics.job_started, kind)
    token = _current.set(report)
    try:
        yield report
    except BaseException as exc:
        report.outcome = "cancelled" if not isinstance(exc, Exception) else "failed"
        raise
    finally:
        _current.reset(token)
        seconds = time.monotonic() - report.started
        level = logging.INFO if report.outcome == "ok" else logging.WARNING
        if quiet and report.outcome == "ok" and not any(report.counts.values()):
            level = logging.DEBUG
        log.log(level, "%s ended: %s", kind, report.outcome,
                extra={"job": kind, "event": "end", "outcome": report.outcome,
                       "duration_s": round(seconds, 3), **fields, **report.counts})
        _count(metrics.job_finished, kind, report.outcome, seconds)


def _count(hook: Any, *args: Any) -> None:
    try:
        hook(*args)
    except Exception:  # the metrics must never stop the work they describe
        log.exception("metrics: could not count job %s", args[0])
