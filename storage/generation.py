"""A counter shared by every worker process on this host, for cache invalidation.

Workers cache table metadata and credentials in memory. Whoever changes them
bumps this counter (an 8-byte integer in a memory-mapped file in the data
directory); every request compares it with the value its cache was built at,
which costs one memory read.
"""
from __future__ import annotations

import fcntl
import mmap
import os
import struct
from pathlib import Path

_FMT = struct.Struct("<Q")


class Generation:
    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(fd).st_size < _FMT.size:
                os.ftruncate(fd, _FMT.size)
            self._map = mmap.mmap(fd, _FMT.size)
        finally:
            os.close(fd)
        self._lock_path = str(path) + ".lock"

    def read(self) -> int:
        return _FMT.unpack_from(self._map, 0)[0]

    def bump(self) -> int:
        # The file lock serialises bumps from different processes.
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            value = self.read() + 1
            _FMT.pack_into(self._map, 0, value)
            return value


def shared() -> Generation:
    """The data directory's counter (one per host)."""
    from django.conf import settings

    return Generation(settings.DATA_DIR / "generation")
