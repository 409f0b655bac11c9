"""Once-per-cluster work on PostgreSQL: session advisory locks on a dedicated connection.

A lock is PostgreSQL's to keep: it is released when the holder unlocks it or its
session ends, including when its process or host dies. A killed process closes
its socket at once; a dead host is noticed through TCP keepalives, set short on
this session (KEEPALIVE_*), so its work moves to another server within about
KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT seconds. The holder checks
its connection every WATCH_SECONDS and, if it broke, tells every lease's holder
to stop (Lease.lost): PostgreSQL may already have given the lock to someone else.
"""
from __future__ import annotations

import asyncio
import logging

import psycopg

from .base import Lease

log = logging.getLogger("extenddb.storage")

WATCH_SECONDS = 2.0
KEEPALIVE_IDLE = 5
KEEPALIVE_INTERVAL = 2
KEEPALIVE_COUNT = 3
# The server's side of the keepalives: it is the server that must notice a dead
# holder to release its locks.
_KEEPALIVE_SETTINGS = (f"SET tcp_keepalives_idle = {KEEPALIVE_IDLE}",
                       f"SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL}",
                       f"SET tcp_keepalives_count = {KEEPALIVE_COUNT}")
# The second key space of hashtextextended keeps these apart from other advisory locks.
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%s, 12))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%s, 12))"


class PgLease(Lease):
    def __init__(self, owner: PgLeases, name: str) -> None:
        self._owner = owner
        self.name = name
        self.lost = asyncio.Event()

    async def release(self) -> None:
        await self._owner.release(self)


class PgLeases:
    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._conn: psycopg.AsyncConnection | None = None
        self._lock = asyncio.Lock()
        self._held: dict[str, PgLease] = {}
        self._watcher: asyncio.Task | None = None

    async def try_lease(self, name: str) -> PgLease | None:
        async with self._lock:
            if name in self._held:
                return None
            try:
                conn = await self._connection()
                cur = await conn.execute(_TRY_LOCK, (f"extenddb:{name}",))
                row = await cur.fetchone()
            except psycopg.Error as exc:
                log.warning("lease %s: %s", name, exc)
                await self._drop_connection()
                return None
            if not row or not row[0]:
                return None
            lease = PgLease(self, name)
            self._held[name] = lease
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="extenddb-leases")
            return lease

    async def release(self, lease: PgLease) -> None:
        async with self._lock:
            if self._held.get(lease.name) is not lease:
                return
            del self._held[lease.name]
            try:
                if self._conn is not None and not self._conn.closed:
                    await self._conn.execute(_UNLOCK, (f"extenddb:{lease.name}",))
            except psycopg.Error:
                await self._drop_connection()

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, keepalives=1, keepalives_idle=KEEPALIVE_IDLE,
                keepalives_interval=KEEPALIVE_INTERVAL, keepalives_count=KEEPALIVE_COUNT)
            for statement in _KEEPALIVE_SETTINGS:
                await conn.execute(statement)
            self._conn = conn
        return self._conn

    async def _drop_connection(self) -> None:
        """The session is gone, and with it every lock: every holder must stop."""
        for lease in self._held.values():
            lease.lost.set()
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except psycopg.Error:
                pass

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            async with self._lock:
                if not self._held:
                    return
                try:
                    assert self._conn is not None
                    await self._conn.execute("SELECT 1")
                except (psycopg.Error, AssertionError) as exc:
                    log.warning("leases: connection lost (%s); stopping %s", exc, ", ".join(self._held))
                    await self._drop_connection()
                    return

    async def close(self) -> None:
        async with self._lock:
            for lease in self._held.values():
                lease.lost.set()
            self._held.clear()
            if self._conn is not None:
                try:
                    await self._conn.close()
                except psycopg.Error:
                    pass
                self._conn = None
        if self._watcher is not None:
            self._watcher.cancel()
