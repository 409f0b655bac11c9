"""One writer at a time among this host's SQLite backends, woken at once.

SQLite's own lock stays the source of truth: every write transaction of the
backend still takes it (BEGIN IMMEDIATE), and the ORM (admin, management
commands) writes without this lock, relying on busy_timeout as before. What
this lock changes is how a backend's writer waits for another worker's: when
BEGIN IMMEDIATE finds the database locked, sqlite3's busy handler sleeps in
growing steps (1, 2, 5, 10, ... 100 ms) on the worker's event loop, although
the holder needs a fraction of a millisecond. A blocking flock on a file beside
the database, taken before BEGIN IMMEDIATE and released after COMMIT or
ROLLBACK, wakes the waiter as soon as the holder is done, so the busy handler
almost never sleeps.

Blocking on the event loop is what the busy handler did too; the wait is now
the holder's critical section (synchronous SQLite work and the commit's fsync),
never a sleep step. The critical section must not await anything that really
suspends (nothing in storage.backends.sqlite does): a holder that did would
stall the waiting worker's loop for as long, exactly as it would under the busy
handler.

flock, not fcntl/lockf: flock locks belong to an open file description, so two
descriptors of one process exclude each other too, and the lock does not
vanish when some other descriptor of the file is closed. A descriptor inherited
across fork shares its open file description (and its lock) with the parent, so
each process opens its own, lazily (keyed by pid).

Single host: flock does not reach other machines, which SQLite does not serve
anyway (storage.generation.claim_single_host).
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os

log = logging.getLogger(__name__)


def lock_path(database_path: str) -> str | None:
    """The lock file beside the database; None for an in-memory database (one connection, no peers)."""
    if database_path in ("", ":memory:") or (database_path.startswith("file:") and "mode=memory" in database_path):
        return None
    return f"{database_path}.write-lock"


class WriterLock:
    def __init__(self, database_path: str) -> None:
        self._path = lock_path(database_path)
        self._fd: int | None = None
        self._pid: int | None = None

    def _descriptor(self) -> int | None:
        pid = os.getpid()
        if self._pid != pid:
            if self._fd is not None:
                # Inherited from the parent: closing our copy leaves the parent's lock (if any) alone.
                os.close(self._fd)
                self._fd = None
            self._pid = pid
            if self._path is not None:
                try:
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                except OSError as exc:  # e.g. a read-only directory: SQLite's busy handler still orders writers
                    log.warning("no writer lock file %s (%s): writers wait in SQLite's busy handler",
                                self._path, exc)
        return self._fd

    def acquire(self) -> bool:
        """Blocks until this process's writer holds the lock; False if there is no lock file."""
        fd = self._descriptor()
        if fd is None:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX)
        return True

    async def acquire_async(self) -> bool:
        """acquire(), but while another process holds the lock, wait in a thread: the holder
        may keep it across loop turns (a group commit lets a loop turn's members join), and
        this worker's loop keeps serving meanwhile."""
        fd = self._descriptor()
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            # The thread takes the lock anyway: give it back then, or every writer would wait forever.
            waiting.add_done_callback(lambda f: f.cancelled() or f.exception() is not None or self.release())
            raise
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._pid = None
