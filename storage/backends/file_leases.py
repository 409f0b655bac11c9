"""Once-per-host work on SQLite: an exclusive flock on a file beside the database.

SQLite is single-host (storage.generation.claim_single_host), so every server
that can share the database runs on this host: a lock file is an election. The
kernel releases the lock when its holder dies, so the work moves on at once.
"""
from __future__ import annotations

import asyncio
import fcntl
import os
import re
from pathlib import Path

from .base import Lease


class FileLease(Lease):
    def __init__(self, name: str, fd: int) -> None:
        self.name = name
        self.lost = asyncio.Event()  # never set: the lock lives as long as this process
        self._fd: int | None = fd

    async def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def try_file_lease(database_path: str, name: str) -> FileLease | None:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = Path(f"{database_path}.lease-{safe}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return FileLease(name, fd)
