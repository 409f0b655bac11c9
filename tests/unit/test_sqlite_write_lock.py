"""The SQLite backend's writers queue on a flock beside the database (storage.backends.write_lock)."""
from __future__ import annotations

import asyncio
import fcntl
import os
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
