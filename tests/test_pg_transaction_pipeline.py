"""PostgreSQL: a locked transaction runs in pipeline mode (BEGIN with its first read, its
writes and COMMIT with its last round trip). What could go wrong with that, against the
real database: a COMMIT that fails after the writes were sent (a deferred trigger raising
at commit) is an error and leaves nothing behind; a statement that fails mid-pipeline, a
Python exception after a write was sent, and a concurrent insert (WriteConflict) all roll
back; and no connection goes back to the pool inside a transaction or a pipeline."""
from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from storage.backends import WriteConflict, get_backend

from . import testenv

pytestmark = pytest.mark.skipif(testenv.BACKEND != "postgres", reason="pipeline mode is PostgreSQL's")

_TRIGGER = """
CREATE OR REPLACE FUNCTION test_refuse_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF position('refused' in convert_from(NEW.body, 'UTF8')) > 0 THEN
        RAISE EXCEPTION 'refused by the test trigger';
    END IF;
    RETURN NULL;
END $$
"""


async def _open_transactions(conninfo: str) -> int:
    import psycopg
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND state LIKE 'idle in transaction%%'")
        return (await cur.fetchone())[0]


async def scenarios(deferred: bool) -> None:
    import psycopg

    be = get_backend()
    record = await be.create_table(f"pipe-{uuid.uuid4().hex[:10]}", {"KeySchema": []}, "ACTIVE", time.time())
    record = await be.load_table(record.name)
    tid, version = record.id, record.version
    admin = await psycopg.AsyncConnection.connect(be._db.conninfo, autocommit=True)
    when = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
    try:
        await admin.execute(_TRIGGER)
        await admin.execute(f"CREATE CONSTRAINT TRIGGER test_refuse AFTER INSERT OR UPDATE ON ddb_item {when} "
                            f"FOR EACH ROW WHEN (NEW.table_id = {int(tid)}) EXECUTE FUNCTION test_refuse_marked()")
        await be.put_item(tid, b"old", b"", b'{"v":"kept"}', 10, version)

        # An update (deferred: it leaves with COMMIT) and an insert (sent at once), both refused:
        # by the COMMIT (deferred trigger) or by the statement itself.
        for key, existed in ((b"old", True), (b"new", False)):
            with pytest.raises(psycopg.Error, match="refused by the test trigger"):
                async with be.transaction() as txn:
                    assert (await txn.get_item(tid, key, b"", version) is not None) == existed
                    await txn.put_item(tid, key, b"", b'{"v":"refused"}', 10, existed)
            assert await be.get_item(tid, b"old", b"") == b'{"v":"kept"}'
            assert await be.get_item(tid, b"new", b"") is None

        # A Python exception after an insert went out: rolled back.
        with pytest.raises(RuntimeError):
            async with be.transaction() as txn:
                assert await txn.get_item(tid, b"new", b"", version) is None
                await txn.put_item(tid, b"new", b"", b'{"v":"abandoned"}', 10, False)
                raise RuntimeError("the request failed after its write was sent")
        assert await be.get_item(tid, b"new", b"") is None

        # A concurrent insert of the key: WriteConflict, with the call that inserts.
        with pytest.raises(WriteConflict):
            async with be.transaction() as txn:
                assert await txn.get_item(tid, b"raced", b"", version) is None
                await admin.execute("INSERT INTO ddb_item (table_id, hash_key, range_key, body, size, segment_hash) "
                                    "VALUES (%s, 'raced', '', '{\"v\":\"other\"}', 10, 0)", (tid,))
                await txn.put_item(tid, b"raced", b"", b'{"v":"mine"}', 10, False)
        assert await be.get_item(tid, b"raced", b"") == b'{"v":"other"}'

        # Every connection came back usable and outside any transaction: many transactions,
        # concurrently (the pool hands out each connection several times).
        async def write(n: int) -> None:
            async with be.transaction() as txn:
                key = b"after%d" % n
                await txn.get_item(tid, key, b"", version)
                await txn.put_item(tid, key, b"", b'{"v":"ok"}', 10, False)
                await txn.get_item(tid, b"old", b"", version)
                await txn.put_item(tid, b"old", b"", b'{"v":"ok%d"}' % n, 10, True)

        await asyncio.gather(*(write(n) for n in range(24)))
        assert all([await be.get_item(tid, b"after%d" % n, b"") == b'{"v":"ok"}' for n in range(24)])
        assert await _open_transactions(be._db.conninfo) == 0
    finally:
        await admin.execute("DROP TRIGGER IF EXISTS test_refuse ON ddb_item")
        await admin.execute("DROP FUNCTION IF EXISTS test_refuse_marked()")
        await admin.close()
        await be.drop_table(tid)
        await be.close()


@pytest.mark.parametrize("deferred", [True, False], ids=["commit-fails", "statement-fails"])
def test_failed_pipelined_transactions_leave_nothing(server, deferred, caplog):
    with caplog.at_level(logging.WARNING, logger="psycopg"):
        asyncio.run(scenarios(deferred))
    # psycopg_pool warns when it gets a connection back inside a transaction; psycopg when a
    # pipeline ends with an unexpected error.
    assert not [r for r in caplog.records if r.name.startswith("psycopg")], caplog.text
