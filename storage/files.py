"""Files that hold data (the SQLite database, backups, exports) are readable by
their owner only, whatever the process's umask: they carry every item in clear.

SQLite gives a database's -wal and -shm files the permissions of the database
file, so creating the database file 0600 before SQLite opens it is enough.
"""
from __future__ import annotations

import os
from typing import IO

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def create_private(path: str | os.PathLike[str]) -> None:
    """Create an empty file readable by its owner only; FileExistsError if it exists.

    Exclusive creation makes "refuse to overwrite" race-free, and a writer that
    opens the file afterwards (VACUUM INTO, pg_dump, gzip) keeps its mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))


def open_private(path: str | os.PathLike[str], mode: str = "wb") -> IO[bytes]:
    """open(path, mode) for writing ("wb" or "ab"), the file created 0600 (and made so if it was wider)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode.startswith("a") else os.O_TRUNC)
    fd = os.open(path, flags, OWNER_ONLY)
    os.fchmod(fd, OWNER_ONLY)
    return os.fdopen(fd, mode)


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    with open_private(path) as f:
        f.write(data)


def private_sqlite_database(path: str | os.PathLike[str]) -> None:
    """Before SQLite first opens `path`: create it 0600 if missing, and narrow a
    database (and its WAL, SHM, journal) left wider by an older release."""
    name = os.fspath(path)
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    try:
        os.close(os.open(name, os.O_WRONLY | os.O_CREAT, OWNER_ONLY))  # an empty file is an empty database
    except FileNotFoundError:  # its directory does not exist: SQLite will say so
        return
    for candidate in (name, *(name + suffix for suffix in _SQLITE_COMPANIONS)):
        try:
            if os.stat(candidate).st_mode & 0o077:
                os.chmod(candidate, OWNER_ONLY)
        except FileNotFoundError:
            pass
        except PermissionError:  # not ours (a shared file someone else owns): leave it
            pass
