"""The cache generation: a number that changes whenever a cached fact changes.

Workers cache table definitions, credentials and compiled policies in memory.
Each cache is valid for one value of its database's generation and is dropped
when the value moves; reading the value is a memory read, so checking it on
every request costs nothing.

Who moves it depends on the database (StorageBackend.generation):
- PostgreSQL, several servers on several hosts: a row bumped by triggers in the
  same transaction as the change and announced with NOTIFY when it commits;
  every worker listens, and polls the row as a fallback
  (storage.backends.pg_generation). Staleness is bounded by POLL_SECONDS there.
- SQLite, one host: a counter in a memory-mapped file beside the database file,
  bumped by whoever changes something (FileGeneration), so every process on the
  host that opens that database sees it at once. SQLite is single-host; a second
  host is refused at `serve` (claim_single_host).

`changed_here()` is for a process that has just committed a change itself: its
own caches go at once, before any notification comes back.
"""
from __future__ import annotations

import abc
import fcntl
import mmap
import os
import socket
import struct
from pathlib import Path

_FMT = struct.Struct("<Q")


class Generation(abc.ABC):
    def __init__(self) -> None:
        self._local = 0  # changes this process made itself

    @abc.abstractmethod
    def _shared(self) -> int:
        """The database-wide part (a memory read)."""

    def read(self) -> int:
        return self._shared() + self._local

    def changed_here(self) -> None:
        self._local += 1

    async def close(self) -> None:  # noqa: B027 - optional hook
        pass


class FileGeneration(Generation):
    """A host-wide counter: an 8-byte integer in a memory-mapped file."""

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _FMT.size:
                os.ftruncate(fd, _FMT.size)
            self._map = mmap.mmap(fd, _FMT.size)
        finally:
            os.close(fd)
        self._lock_path = str(path) + ".lock"

    def _shared(self) -> int:
        return _FMT.unpack_from(self._map, 0)[0]

    def changed_here(self) -> None:
        self.bump()

    def bump(self) -> int:
        # The file lock serialises bumps from different processes.
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            value = self._shared() + 1
            _FMT.pack_into(self._map, 0, value)
            return value


def sqlite_generation_path(database_path: str | Path) -> Path:
    """Beside the database file, so every server process using that file shares it."""
    return Path(str(database_path) + ".generation")


def announce_change() -> None:
    """Called after a process committed a change through the ORM (the admin, a
    management command): on SQLite, bump the host's counter so the servers drop
    their caches. On PostgreSQL the database's own triggers have done it."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        FileGeneration(sqlite_generation_path(db["NAME"])).bump()


class SingleHostError(RuntimeError):
    """A SQLite database is already served from another host."""


def claim_single_host(database_path: str | Path) -> None:
    """SQLite is a single-host database: record which host serves it, and refuse
    a second host (another machine mounting the same file would see neither this
    host's cache invalidation nor its locks)."""
    owner = Path(str(database_path) + ".host")
    here = socket.gethostname()
    try:
        fd = os.open(owner, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        there = owner.read_text().strip()
        if there and there != here:
            raise SingleHostError(
                f"{database_path} is served by host {there!r}. SQLite is single-host: to run several "
                "servers, use PostgreSQL (docs/operations.md, 'Running several servers'). If that host "
                f"no longer serves this database, delete {owner}.") from None
        return
    with os.fdopen(fd, "w") as out:
        out.write(here + "\n")
