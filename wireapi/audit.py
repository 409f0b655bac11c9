"""The data-plane access log. Cheap enough to leave on: see record().

record() only appends a tuple to an in-memory buffer. A task on the worker's
event loop writes the buffer to ddb_access_log (storage.models.AccessLogEntry)
as one multi-row insert every FLUSH_SECONDS, or sooner once FLUSH_ROWS are
waiting. The buffer is bounded: if the database is down and it fills, new
entries are dropped and counted (logged as a warning), so the log can never
slow down, fail or exhaust the memory of the requests it records.

The same flush writes access keys' last_used_at (wireapi.credentials), and
the background process purges entries older than
EXTENDDB_ACCESS_LOG_RETENTION_DAYS (purge_forever, in wireapi.background).
"""
from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from django.conf import settings

log = logging.getLogger("extenddb.audit")

FLUSH_SECONDS = 1.0
FLUSH_ROWS = 500
MAX_BUFFERED = 20_000
PURGE_EVERY_SECONDS = 3600.0
_WARN_EVERY_SECONDS = 60.0


class _AccessLog:
    """One worker's buffer and its flush task."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.dropped = 0  # entries lost to a full buffer since the worker started
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._last_warning = 0.0

    def append(self, row: tuple) -> None:
        if len(self.rows) >= MAX_BUFFERED:
            self.dropped += 1
            self._warn()
            return
        self.rows.append(row)
        self._ensure_task()
        if len(self.rows) >= FLUSH_ROWS and self._wake is not None:
            self._wake.set()

    def _ensure_task(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a sync caller): the next async request starts the flusher
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run(), name="extenddb-access-log")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        from . import runtime as runtime_module  # imports the request path; keep this module light

        runtime = runtime_module._runtime
        if runtime is None:
            return  # shut down (or not started): never open a new backend from here
        if self.rows:
            rows, self.rows = self.rows, []
            try:
                await runtime.backend.append_access_log(rows)
            except Exception as exc:
                # Keep what fits for the next attempt; the rest is dropped and counted.
                room = MAX_BUFFERED - len(self.rows)
                kept = rows[-room:] if room > 0 else []
                self.dropped += len(rows) - len(kept)
                self.rows[:0] = kept
                self._warn(exc)
        await runtime.credentials.flush_use()

    def _warn(self, exc: Exception | None = None) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("access log: %d entries buffered, %d dropped so far%s", len(self.rows), self.dropped,
                        f" (database: {exc})" if exc else "")


_log = _AccessLog()


MESSAGE_CHARS = 2000  # an error message is kept up to this length
PURGE_OPERATION = "PurgeAccessLog"
PURGE_PRINCIPAL = "extenddb:retention"
# Signatures and session tokens are credentials (a signature can be replayed for
# minutes): some DynamoDB messages echo the Authorization header, the log never does.
_CREDENTIAL_TEXT = re.compile(r"((?:X-Amz-)?Signature=|X-Amz-Security-Token=|X-Amz-Credential=)[^,&\s'\"]*",
                              re.IGNORECASE)


def _text(value: str | None, limit: int) -> str:
    # PostgreSQL text cannot hold NUL, and one such row would keep the whole buffered batch
    # out of the database; clients can put NUL in what is echoed (a table name, a message).
    value = (value or "")[:limit]
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _scrub(message: str | None) -> str:
    if not message:
        return ""
    return _text(_CREDENTIAL_TEXT.sub(r"\1<redacted>", message[:MESSAGE_CHARS]), MESSAGE_CHARS)


def record(scope: dict[str, Any], request_id: str, principal: str | None, access_key_id: str | None,
           operation: str | None, table_name: str | None, outcome: str, served_by: str | None = None,
           error_message: str | None = None, latency_ms: float | None = None) -> None:
    """Note one request; must never block or raise on the request path."""
    if not settings.EXTENDDB_ACCESS_LOG:
        return
    try:
        client = scope.get("client") if scope else None
        source = client[0] if client else ""
        # Only the table name and the message come from a JSON body, where NUL can be; the
        # others are the server's own or HTTP header values (the parser refuses NUL there).
        _log.append((datetime.now(timezone.utc), (principal or "")[:255], (access_key_id or "")[:128],
                     (operation or "")[:64], _text(table_name, 255), outcome[:128], source[:64], request_id[:64],
                     (served_by or "")[:128], _scrub(error_message), latency_ms))
    except Exception:  # the log must never fail the request it describes
        log.exception("access log: could not record request %s", request_id)


def dropped() -> int:
    """Entries this worker could not keep (buffer full while the database was unreachable)."""
    return _log.dropped


async def flush() -> None:
    """Write whatever is buffered now (tests, shutdown)."""
    await _log.flush()


async def purge_once(now: datetime | None = None) -> int:
    """Delete entries older than the retention period, and record the purge as an entry
    of its own (operation PurgeAccessLog; the message says how many and the cutoff), in
    the same transaction; returns how many were deleted."""
    days = settings.EXTENDDB_ACCESS_LOG_RETENTION_DAYS
    if days <= 0:
        return 0  # keep forever
    import uuid

    from .runtime import get_runtime

    at = now or datetime.now(timezone.utc)
    cutoff = at - timedelta(days=days)
    started = time.perf_counter()

    def note(count: int) -> tuple:
        text = (f"Purged {count} entries older than {cutoff.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC "
                f"(retention {days} days)")
        return (datetime.now(timezone.utc), PURGE_PRINCIPAL, "", PURGE_OPERATION, "", "OK", "", str(uuid.uuid4()),
                "", text, round((time.perf_counter() - started) * 1000, 3))

    return await get_runtime().backend.purge_access_log(cutoff, note)


async def purge_forever() -> None:
    """Background task (wireapi.background): apply the retention period once an hour."""
    while True:
        try:
            removed = await purge_once()
            if removed:
                log.info("access log: purged %d entries older than %d days", removed,
                         settings.EXTENDDB_ACCESS_LOG_RETENTION_DAYS)
        except Exception as exc:
            log.warning("access log: purge failed: %s", exc)
        await asyncio.sleep(PURGE_EVERY_SECONDS)
