"""No write is ever made against a table definition that has moved on: every item
write carries the table version it was validated against, and the storage refuses
it (StaleSchema) once the table changed, on every write path (blind puts, their
shared statement, compare-and-set, locked transactions), against the real
database. The server then redoes the request on the new definition."""
from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid

import pytest

from storage.backends import StaleSchema, get_backend

from . import testenv


def _run(coro):
    return asyncio.run(coro)


async def _table(be):
    record = await be.create_table(f"stale-{uuid.uuid4().hex[:10]}", {"KeySchema": []}, "ACTIVE", time.time())
    return await be.load_table(record.name)


async def _changed(be, record):
    """Another server changes the table: its version moves on."""
    fresh = await be.load_table(record.name)
    await be.save_table(dataclasses.replace(fresh, description={**fresh.description, "_changed": True}))
    return await be.load_table(record.name)


async def stale_everywhere() -> None:
    be = get_backend()
    try:
        old = await _table(be)
        new = await _changed(be, old)
        assert new.version > old.version
        with pytest.raises(StaleSchema):
            await be.put_item(old.id, b"k", b"", b'{"k":{"S":"k"}}', 10, old.version)
        # Concurrent blind puts share one statement: the stale ones are refused, the others written.
        results = await asyncio.gather(
            be.put_item(old.id, b"a", b"", b'{"k":{"S":"a"}}', 10, old.version),
            be.put_item(new.id, b"b", b"", b'{"k":{"S":"b"}}', 10, new.version),
            return_exceptions=True)
        assert isinstance(results[0], StaleSchema) and results[1] is None
        assert await be.get_item(new.id, b"a", b"") is None
        assert await be.get_item(new.id, b"b", b"") == b'{"k":{"S":"b"}}'
        if be.compare_and_set_supported:
            assert not await be.compare_and_set(old.id, b"c", b"", None, b'{"k":{"S":"c"}}', 10, old.version)
            assert not await be.compare_and_set(old.id, b"b", b"", b'{"k":{"S":"b"}}', b'{"x":1}', 10,
                                                old.version)
            assert await be.compare_and_set(new.id, b"c", b"", None, b'{"k":{"S":"c"}}', 10, new.version)
        with pytest.raises(StaleSchema):
            async with be.transaction() as txn:
                await txn.get_item(old.id, b"b", b"", old.version)
                await txn.put_item(old.id, b"b", b"", b'{"stale":1}', 10, True)
        assert await be.get_item(new.id, b"b", b"") == b'{"k":{"S":"b"}}'
        # A dropped table: a write validated before the drop is refused too.
        await be.drop_table(new.id)
        with pytest.raises(StaleSchema):
            await be.put_item(new.id, b"d", b"", b'{"k":{"S":"d"}}', 10, new.version)
        with pytest.raises(StaleSchema):
            async with be.transaction() as txn:
                await txn.get_item(new.id, b"d", b"", new.version)
        # A save of a definition read before someone else's change is refused as well.
        other = await _table(be)
        await _changed(be, other)
        with pytest.raises(StaleSchema):
            await be.save_table(dataclasses.replace(other, description={"lost": "update"}))
        assert "lost" not in (await be.load_table(other.name)).description
        await be.drop_table(other.id)
    finally:
        await be.close()


def test_writes_on_a_stale_definition_are_refused(server):
    _run(stale_everywhere())


async def write_waits_for_schema_change() -> None:
    """PostgreSQL: a write racing a schema change either commits before it (the change
    waits for it) or sees the new version; it never slips in between."""
    import psycopg

    be = get_backend()
    try:
        record = await _table(be)
        conn = await psycopg.AsyncConnection.connect(be._db.conninfo)  # the changer's open transaction
        await conn.execute("UPDATE ddb_table SET version = version + 1 WHERE id = %s", (record.id,))
        write = asyncio.ensure_future(be.put_item(record.id, b"r", b"", b'{"k":{"S":"r"}}', 10, record.version))
        await asyncio.sleep(0.5)
        assert not write.done(), "the write did not wait for the schema change"
        await conn.commit()
        await conn.close()
        with pytest.raises(StaleSchema):
            await write
        assert await be.get_item(record.id, b"r", b"") is None
        await be.drop_table(record.id)
    finally:
        await be.close()


@pytest.mark.skipif(testenv.BACKEND != "postgres", reason="row locks are PostgreSQL's; SQLite has one writer")
def test_a_write_racing_a_schema_change_sees_it(server):
    _run(write_waits_for_schema_change())
