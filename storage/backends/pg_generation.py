"""The cluster-wide cache generation on PostgreSQL (see storage.generation).

Each worker keeps one connection LISTENing on `extenddb_generation`: the
triggers of storage migration 0004 (and accounts 0004) bump `ddb_generation`
at commit and NOTIFY its new value, so a change reaches every server within
milliseconds. The same connection reads the row every POLL_SECONDS, and again
after every reconnect, so a missed notification (the connection broke, the
database failed over) costs at most POLL_SECONDS of staleness. When the
dedicated connection cannot be made, the row is polled through the pool.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import psycopg

from storage.generation import Generation

log = logging.getLogger("extenddb.storage")

CHANNEL = "extenddb_generation"
LISTEN = f"LISTEN {CHANNEL}"
READ_GENERATION = "SELECT value FROM ddb_generation WHERE id = 1"
# The stated bound on staleness of every cache (docs/operations.md).
POLL_SECONDS = 0.5
_WARN_EVERY_SECONDS = 60.0


class NotifiedGeneration(Generation):
    def __init__(self, conninfo: str, fallback: Callable[[], Awaitable[int | None]]) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._fallback = fallback  # reads the row through the backend's pool
        self._value = 0
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.confirmed_at = 0.0  # monotonic time the value was last known current
        self._last_warning = 0.0

    def _shared(self) -> int:
        if self._task is None or self._task.done():
            self._start()
        return self._value

    def _start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (a sync caller): the first async request starts the watcher
        if self._task is not None and not self._task.done() and self._loop is loop:
            return
        self._loop = loop
        self._task = loop.create_task(self._watch(), name="extenddb-generation")

    def _saw(self, value: int) -> None:
        if value > self._value:
            self._value = value
        self.confirmed_at = time.monotonic()

    async def _watch(self) -> None:
        pause = 0.05
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                self._warn(exc)
                await self._poll_fallback()
                await asyncio.sleep(pause)
                pause = min(pause * 2, POLL_SECONDS)
                continue
            pause = 0.05
            try:
                async with conn:
                    await conn.execute(LISTEN)
                    await self._poll(conn)  # catch up on what happened while we were away
                    while True:
                        async for note in conn.notifies(timeout=POLL_SECONDS):
                            self._saw(int(note.payload))
                        await self._poll(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # psycopg.Error, OSError, a bad payload: reconnect
                self._warn(exc)

    async def _poll(self, conn: psycopg.AsyncConnection) -> None:
        cur = await conn.execute(READ_GENERATION)
        row = await cur.fetchone()
        if row is not None:
            self._saw(int(row[0]))

    async def _poll_fallback(self) -> None:
        try:
            value = await self._fallback()
        except Exception:  # the database is away: requests fail too, nothing is served stale
            return
        if value is not None:
            self._saw(value)

    def _warn(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("cache invalidation: listening connection lost (%s); polling", exc or type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
