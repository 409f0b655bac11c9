"""Eventually consistent reads from PostgreSQL hot standbys, under a lag bound.

How far behind a standby is, measured without trusting any clock but ours:
every SAMPLE_SECONDS the monitor notes the primary's WAL position with the
time it read it, then each standby's replayed position. A standby that has
replayed position R holds every change the primary had made by the last sample
whose position is <= R, so its lag is at most the age of that sample. An idle
primary does not make a standby look late (the positions are equal), a standby
that stopped replaying or lost its primary does (the primary moves on), and a
standby that cannot be asked is out. Reads go to a standby whose lag is under
`max_lag`; if none is, to the primary. A read that fails on a standby (it just
went down) is answered by the primary and the standby is set aside at once.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque

import psycopg

from .base import IndexRow, IndexScanRow, KeyRange, QueryRow, Reader, ScanRow
from .pg_reads import PgPool, PostgresReads

log = logging.getLogger("extenddb.storage")

SAMPLE_SECONDS = 0.2
_HISTORY_SECONDS = 120.0
_PRIMARY_POSITION = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"
_STANDBY_POSITION = (
    "SELECT pg_is_in_recovery(), pg_wal_lsn_diff(COALESCE(pg_last_wal_replay_lsn(), '0/0'), '0/0')::bigint"
)
_UNKNOWN = float("inf")


class Replica:
    def __init__(self, info: str, label: str) -> None:
        self.pool = PgPool(info, min_size=1, max_size=8, name=f"replica {label}")
        self.reads = PostgresReads(self.pool, f"replica {label}")
        self.label = label
        self.lag = _UNKNOWN  # seconds, an upper bound; inf while unknown or unreachable

    def set_aside(self) -> None:
        self.lag = _UNKNOWN


class ReplicaSet:
    def __init__(self, primary: PgPool, replicas: list[Replica], max_lag: float) -> None:
        self._primary = primary
        self.replicas = replicas
        self.max_lag = max_lag
        self._eligible: list[Replica] = []
        self._turn = itertools.count()
        self._samples: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._monitor(), name="extenddb-replicas")

    def pick(self) -> Replica | None:
        """A standby within the lag bound (round robin), or None: read from the primary."""
        if self._task is None:
            self.start()
        eligible = self._eligible
        if not eligible:
            return None
        return eligible[next(self._turn) % len(eligible)]

    async def _monitor(self) -> None:
        while True:
            try:
                await self._sample()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("replica monitor")
            await asyncio.sleep(SAMPLE_SECONDS)

    async def _sample(self) -> None:
        try:
            row = await self._primary.one(_PRIMARY_POSITION, ())
        except psycopg.Error:
            row = None  # the primary is away: nothing can be said of anyone's lag
        now = time.monotonic()
        if row is not None:
            self._samples.append((now, int(row[0])))
            while self._samples and self._samples[0][0] < now - _HISTORY_SECONDS:
                self._samples.popleft()
        for replica in self.replicas:
            replica.lag = await self._lag(replica, now if row is not None else None)
        self._eligible = [r for r in self.replicas if r.lag <= self.max_lag]

    async def _lag(self, replica: Replica, now: float | None) -> float:
        if now is None:
            return _UNKNOWN
        try:
            row = await asyncio.wait_for(replica.pool.one(_STANDBY_POSITION, ()), timeout=max(self.max_lag, 1.0))
        except (psycopg.Error, OSError, TimeoutError) as exc:
            if replica.lag != _UNKNOWN:
                log.warning("replica %s set aside: %s", replica.label, exc or type(exc).__name__)
            return _UNKNOWN
        if row is None:
            return _UNKNOWN
        in_recovery, replayed = row
        if not in_recovery:
            return 0.0  # promoted: it is a primary now, as fresh as it gets
        fresh_as_of = None
        for taken, position in reversed(self._samples):
            if position <= replayed:
                fresh_as_of = taken
                break
        return _UNKNOWN if fresh_as_of is None else now - fresh_as_of

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for replica in self.replicas:
            await replica.pool.close()


class ReplicaRead(Reader):
    """One eventually consistent read: from a standby, or the primary if the standby fails."""

    def __init__(self, replica: Replica, primary: Reader) -> None:
        self._replica = replica
        self._primary = primary
        self.source = replica.reads.source

    async def _run(self, name: str, *args):  # type: ignore[no-untyped-def]
        try:
            return await getattr(self._replica.reads, name)(*args)
        except psycopg.Error as exc:
            log.warning("replica %s failed a read (%s): primary answers", self._replica.label, exc)
            self._replica.set_aside()
            self.source = self._primary.source
            return await getattr(self._primary, name)(*args)

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        return await self._run("get_item", table_id, pk, sk)

    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        return await self._run("get_items", table_id, keys)

    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        return await self._run("query", table_id, pk, rng, forward, after, limit)

    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        return await self._run("query_index", index_id, index_hash, rng, forward, after, limit)

    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        return await self._run("scan", table_id, after, segment, limit)

    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]:
        return await self._run("scan_index", index_id, after, limit)
