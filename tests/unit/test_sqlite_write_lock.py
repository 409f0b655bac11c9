"""The SQLite backend's writers queue on a flock beside the database (storage.backends.write_lock)."""
from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import time

from storage.backends.sqlite import SQLiteBackend
from storage.backends.write_lock import WriterLock, lock_path


def _held_elsewhere(path: str) -> bool:
    """Whether some other open file description holds the flock on `path`."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # releases what this probe may have taken
    return False


def test_the_write_transaction_holds_the_writer_lock(tmp_path):
    db = str(tmp_path / "db.sqlite3")
    backend = SQLiteBackend({"NAME": db})
    seen = {}

    async def main() -> None:
        async with backend._write() as conn:
            conn.execute("CREATE TABLE t (n INTEGER)")
            seen["during"] = _held_elsewhere(lock_path(db))
        seen["after"] = _held_elsewhere(lock_path(db))
        try:
            async with backend._write() as conn:
                conn.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        seen["after_rollback"] = _held_elsewhere(lock_path(db))
        await backend.close()

    asyncio.run(main())
    assert seen == {"during": True, "after": False, "after_rollback": False}


def test_a_forked_child_opens_its_own_lock_descriptor(tmp_path):
    """A descriptor inherited across fork shares its lock with the parent: the child
    must not use it, or it would 'hold' the lock the parent holds."""
    db = str(tmp_path / "db.sqlite3")
    lock = WriterLock(db)
    assert lock.acquire()  # the parent holds it, through a descriptor the child inherits
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its acquire() must wait for the parent's release
        os.close(read)
        started = time.monotonic()
        lock.acquire()
        waited = time.monotonic() - started
        lock.release()
        os.write(write, b"1" if waited >= 0.2 else b"0")
        os._exit(0)
    os.close(write)
    time.sleep(0.4)
    lock.release()
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    lock.close()
    assert answer == b"1", "the child took the lock while the parent held it"


def test_no_lock_file_for_an_in_memory_database():
    assert lock_path(":memory:") is None
    assert lock_path("file:memorydb_default?mode=memory&cache=shared") is None
    assert WriterLock(":memory:").acquire() is False


# --- group commit: concurrent transaction() calls of a worker share one COMMIT ----------

def _backend_with_table(tmp_path) -> tuple[SQLiteBackend, str]:
    db = str(tmp_path / "db.sqlite3")
    backend = SQLiteBackend({"NAME": db})

    async def create() -> None:
        async with backend._write() as conn:
            conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, n INTEGER)")
            conn.execute("INSERT INTO t VALUES (0, 0)")
        await backend.close()
    asyncio.run(create())
    return backend, db


def _rows(db: str) -> dict[int, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT k, n FROM t").fetchall())
    finally:
        conn.close()


def test_a_failing_member_rolls_back_only_its_own_writes(tmp_path):
    backend, db = _backend_with_table(tmp_path)
    seen: dict[int, object] = {}

    async def member(k: int, fail: bool) -> None:
        async with backend.transaction() as txn:
            txn._conn.execute("INSERT INTO t VALUES (?, ?)", (k, k))
            seen.setdefault("conns", set()).add(id(txn._conn))
            if fail:
                raise ValueError(k)
        seen[k] = _rows(db).get(k)  # answered only after the COMMIT: visible to any other connection

    async def main() -> list:
        results = await asyncio.gather(member(1, False), member(2, True), member(3, False),
                                       return_exceptions=True)
        await backend.close()
        return results

    results = asyncio.run(main())
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], ValueError)
    assert _rows(db) == {0: 0, 1: 1, 3: 3}
    assert seen[1] == 1 and seen[3] == 3
    assert len(seen["conns"]) == 1


def test_members_share_one_commit(tmp_path):
    backend, db = _backend_with_table(tmp_path)
    commits = []

    async def main() -> None:
        conn = backend.group_conn
        conn.set_trace_callback(lambda statement: commits.append(statement) if statement == "COMMIT" else None)

        async def member(k: int) -> None:
            async with backend.transaction() as txn:
                txn._conn.execute("INSERT INTO t VALUES (?, ?)", (k, k))
        await asyncio.gather(*(member(k) for k in range(1, 21)))
        await backend.close()

    asyncio.run(main())
    assert len(_rows(db)) == 21
    assert len(commits) < 20  # 20 concurrent members, fewer commits (one, unless the loop split them)


def test_a_lost_shared_transaction_fails_every_member(tmp_path):
    """If the shared transaction is gone (here a member ends it; in life an I/O error or a
    full disk makes SQLite roll it back), no member may be acknowledged."""
    backend, db = _backend_with_table(tmp_path)

    async def good(k: int) -> None:
        async with backend.transaction() as txn:
            txn._conn.execute("INSERT INTO t VALUES (?, ?)", (k, k))

    async def breaks() -> None:
        async with backend.transaction() as txn:
            txn._conn.execute("ROLLBACK")

    async def main() -> list:
        results = await asyncio.gather(good(1), breaks(), good(3), return_exceptions=True)
        after = await asyncio.gather(good(4))  # the next transaction works
        await backend.close()
        return results + after

    results = asyncio.run(main())
    # The member that wrote in the lost transaction fails, as does the one that lost it;
    # the one that had not started yet runs in the next transaction.
    assert isinstance(results[0], sqlite3.Error) and isinstance(results[1], sqlite3.Error), results
    assert results[2] is None and results[3] is None
    assert _rows(db) == {0: 0, 3: 3, 4: 4}


def test_a_member_that_suspends_keeps_the_others_out_of_its_savepoint(tmp_path):
    backend, db = _backend_with_table(tmp_path)

    async def slow() -> None:
        async with backend.transaction() as txn:
            txn._conn.execute("INSERT INTO t VALUES (1, 1)")
            await asyncio.sleep(0.05)
            raise ValueError("slow")

    async def fast() -> None:
        await asyncio.sleep(0.01)  # joins while `slow` is suspended in its body
        async with backend.transaction() as txn:
            txn._conn.execute("INSERT INTO t VALUES (2, 2)")

    async def main() -> list:
        results = await asyncio.gather(slow(), fast(), return_exceptions=True)
        await backend.close()
        return results

    results = asyncio.run(main())
    assert isinstance(results[0], ValueError) and results[1] is None
    assert _rows(db) == {0: 0, 2: 2}


def test_increments_from_two_processes_stay_exact(tmp_path):
    """Read-modify-write members, 16 at a time in each of two forked workers."""
    backend, db = _backend_with_table(tmp_path)
    rounds, width = 15, 16

    def worker() -> None:
        async def increment() -> None:
            async with backend.transaction() as txn:
                n = txn._conn.execute("SELECT n FROM t WHERE k = 0").fetchone()[0]
                txn._conn.execute("UPDATE t SET n = ? WHERE k = 0", (n + 1,))

        async def main() -> None:
            for _ in range(rounds):
                await asyncio.gather(*(increment() for _ in range(width)))
            await backend.close()
        asyncio.run(main())

    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                worker()
                os._exit(0)
            except BaseException:
                os._exit(1)
        pids.append(pid)
    codes = [os.waitpid(pid, 0)[1] for pid in pids]
    assert codes == [0, 0]
    assert _rows(db)[0] == 2 * rounds * width
