"""PostgreSQL connection pools and the read path (primary or hot-standby replica).

`PgPool` is a psycopg pool opened once, however many tasks ask at once.
`PostgresReads` serves GetItem, BatchGetItem, Query and Scan from one pool:
concurrent GetItems share one statement, as do concurrent Querys of one shape.
The primary's reads and each replica's are separate instances, so a replica's
batches never mix with the primary's.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from functools import cache
from typing import Any, NamedTuple

import psycopg
from psycopg_pool import AsyncConnectionPool

from . import sql
from .base import IndexRow, IndexScanRow, KeyRange, QueryRow, Reader, ScanRow
from .coalesce import Coalescer
from .pg_arrays import columns

log = logging.getLogger("extenddb.storage")


def conninfo(settings_dict: dict[str, Any]) -> str:
    """libpq connection string from Django's DATABASES entry, OPTIONS included, so a
    multi-host DATABASE_URL (host=a,b with target_session_attrs=read-write) follows a
    promoted standby, as Django's own connections do."""
    parts: dict[str, Any] = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
    }
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items()
               if k not in ("pool", "server_side_binding", "isolation_level", "assume_role")}
    parts.update(options)
    # A host that does not answer must not hold a connection attempt for libpq's default
    # (forever): the next host of a multi-host URL is tried instead.
    parts.setdefault("connect_timeout", 5)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in parts.items() if v not in (None, "")})


class PgPool:
    """A connection pool in autocommit with prepared statements, opened on first use."""

    def __init__(self, info: str, min_size: int, max_size: int, name: str) -> None:
        self.conninfo = info
        self.pool = AsyncConnectionPool(info, min_size=min_size, max_size=max_size, open=False, name=name,
                                        kwargs={"autocommit": True, "prepare_threshold": 0})
        self._opened = False
        self._opening: asyncio.Lock | None = None
        self._checking: asyncio.Task | None = None

    async def open(self) -> None:
        if self._opened:
            return
        # Two tasks of one process may open at once (the background process's tasks
        # start together): psycopg_pool's open is not safe to run twice concurrently.
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if not self._opened:
                await self.pool.open(wait=True)
                self._opened = True

    async def close(self) -> None:
        if self._opened:
            self._opened = False
            await self.pool.close()

    @property
    def opened(self) -> bool:
        return self._opened

    def connection_lost(self) -> None:
        """A statement failed on a broken connection (the server restarted or failed
        over): test the idle ones now, so the next requests do not meet them one by one."""
        if not self._opened or (self._checking is not None and not self._checking.done()):
            return
        try:
            self._checking = asyncio.get_running_loop().create_task(self.pool.check())
        except RuntimeError:
            pass

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        await self.open()
        async with self.pool.connection() as conn:
            yield conn

    async def one(self, statement: str, params: tuple) -> tuple | None:
        await self.open()
        async with self.pool.connection() as conn:
            cur = await conn.execute(statement, params)
            return await cur.fetchone()

    async def all(self, statement: str, params: tuple) -> list[tuple]:
        await self.open()
        async with self.pool.connection() as conn:
            cur = await conn.execute(statement, params)
            return await cur.fetchall()

    async def exec(self, statement: str, params: tuple) -> None:
        await self.open()
        async with self.pool.connection() as conn:
            await conn.execute(statement, params)


class PostgresReads(Reader):
    def __init__(self, pool: PgPool, source: str) -> None:
        self._pool = pool
        self.source = source
        self._lookups: Coalescer[tuple[int, bytes, bytes], bytes | None] = Coalescer(self._lookup_batch)
        self._queries: Coalescer[_PendingQuery, list[tuple]] = Coalescer(self._query_batch)

    async def _all(self, statement: str, params: tuple) -> list[tuple]:
        # Reads are idempotent: one broken pooled connection (a restart, a failover)
        # costs a retry on a fresh one, not the client's request.
        try:
            return await self._pool.all(statement, params)
        except psycopg.OperationalError:
            self._pool.connection_lost()
            return await self._pool.all(statement, params)

    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None:
        return await self._lookups.submit((table_id, pk, sk))

    async def _lookup_batch(self, keys: list[tuple[int, bytes, bytes]]) -> list[bytes | None]:
        if len(keys) == 1:
            rows = await self._all(sql.GET_ITEM, keys[0])
            return [rows[0][0] if rows else None]
        rows = await self._all(_GET_ITEMS_ANY_TABLE, columns(keys, "qbb"))
        found = {(r[0], bytes(r[1]), bytes(r[2])): r[3] for r in rows}
        return [found.get(key) for key in keys]

    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        if not keys:
            return {}
        rows = await self._all(_GET_ITEMS_MANY, ([k[0] for k in keys], [k[1] for k in keys], table_id))
        return {(bytes(r[0]), bytes(r[1])): r[2] for r in rows}

    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        return await self._queries.submit(
            _PendingQuery(False, table_id, pk, rng, forward, (after,) if after is not None else (), limit))

    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        return await self._queries.submit(
            _PendingQuery(True, index_id, index_hash, rng, forward, after or (), limit))

    async def _query_batch(self, queries: list[_PendingQuery]) -> list[list[tuple]]:
        try:
            return await self._run_queries(queries)
        except psycopg.OperationalError:
            self._pool.connection_lost()
            return await self._run_queries(queries)

    async def _run_queries(self, queries: list[_PendingQuery]) -> list[list[tuple]]:
        # Requests of one statement shape share a statement; a lone one runs its own
        # (prepared) statement, as it would without company.
        if len(queries) == 1:
            return [await self._pool.all(*_query_one(queries[0]))]
        groups: dict[_QueryShape, list[int]] = {}
        for n, q in enumerate(queries):
            groups.setdefault((q.index, sql.shape(q.rng), q.forward, bool(q.after)), []).append(n)
        results: list[list[tuple]] = [[] for _ in queries]
        async with self._pool.connection() as conn:
            # Several shapes: their statements go out together (one round trip, not one each).
            async with conn.pipeline() if len(groups) > 1 else nullcontext():
                cursors = [await _query_group(conn, key, [queries[n] for n in members])
                           for key, members in groups.items()]
            for members, cur in zip(groups.values(), cursors):
                if len(members) == 1:
                    results[members[0]] = await cur.fetchall()
                    continue
                for row in await cur.fetchall():
                    results[members[row[0] - 1]].append(row[1:])
        return results

    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        statement = sql.scan_items(after is not None, segment is not None)
        return await self._all(statement, (table_id, *(segment or ()), *(after or ()), limit))

    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]:
        return await self._all(sql.scan_index(after is not None), (index_id, *(after or ()), limit))


async def _query_group(conn: psycopg.AsyncConnection, key: _QueryShape,
                       group: list[_PendingQuery]) -> psycopg.AsyncCursor:
    """Send one shape's statement: rows as today's for one query; else (request number, row…)."""
    if len(group) == 1:
        return await conn.execute(*_query_one(group[0]))
    index, rng_shape, forward, after = key
    params: list[list[Any]] = [[q.owner for q in group], [q.hash_key for q in group]]
    if rng_shape[0]:
        params.append([q.rng.low for q in group])
    if rng_shape[2]:
        params.append([q.rng.high for q in group])
    params.extend(map(list, zip(*(q.after for q in group))))
    params.append([q.limit for q in group])
    # Binary results: text would hex-encode every body (twice the bytes to read).
    return await conn.execute(_query_many(index, rng_shape, forward, after), params, binary=True)


def binary_arrays(statement: str) -> str:
    """Send the array parameters (keys, bodies) in binary: psycopg's text format
    hex-encodes every bytea element (twice the bytes) and escapes it with a regex."""
    return statement.replace("%s::", "%b::")


class _PendingQuery(NamedTuple):
    """A Query (of a table, or of an index) waiting for its batch."""
    index: bool
    owner: int  # table_id, or index_id
    hash_key: bytes
    rng: KeyRange
    forward: bool
    after: tuple[bytes, ...]  # range_key; or index_range, hash_key, range_key; () for the first page
    limit: int


# Queries that can share a statement: index or table, sql.shape of the range, forward, after set.
_QueryShape = tuple[bool, tuple[bool, bool, bool, bool], bool, bool]


def _query_one(q: _PendingQuery) -> tuple[str, tuple]:
    """The statement and parameters of a Query run alone (sql.query_items or sql.query_index)."""
    statement = (sql.query_index if q.index else sql.query_items)(sql.shape(q.rng), q.forward, bool(q.after))
    return statement, (q.owner, q.hash_key, *sql.bound_params(q.rng), *q.after, q.limit)


@cache
def _query_many(index: bool, rng_shape: tuple[bool, bool, bool, bool], forward: bool, after: bool) -> str:
    return binary_arrays((sql.query_index_many if index else sql.query_items_many)(rng_shape, forward, after))


_GET_ITEMS_MANY = binary_arrays(sql.GET_ITEMS_MANY)
_GET_ITEMS_ANY_TABLE = binary_arrays(sql.GET_ITEMS_ANY_TABLE)
