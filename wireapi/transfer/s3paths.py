"""S3 buckets and keys mapped to folders under one root (EXTENDDB_S3_ROOT).

A bucket is a first-level folder of the root; a key is a path inside it. No
bucket, prefix or key may lead outside the root: '..' segments, absolute
paths and NUL are refused when the request arrives, and every path is
resolved (symlinks followed) and checked again before it is read or written.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings


class OutsideRoot(Exception):
    """A path that resolves outside the S3 root (e.g. through a symlink)."""


class NoSuchBucket(Exception):
    pass


def root() -> Path:
    return Path(settings.EXTENDDB_S3_ROOT).resolve()


def prefix_problem(prefix: str | None) -> bool:
    """Whether a prefix could name a path outside its bucket."""
    if not prefix:
        return False
    return "\x00" in prefix or prefix.startswith("/") or ".." in prefix.split("/")


def _inside(path: Path, base: Path) -> Path:
    resolved = path.resolve()
    if resolved != base and base not in resolved.parents:
        raise OutsideRoot(str(path))
    return resolved


def bucket_dir(bucket: str) -> Path:
    """The bucket's folder; NoSuchBucket if it does not exist."""
    base = root()
    if "/" in bucket or "\x00" in bucket or bucket in (".", ".."):
        raise OutsideRoot(bucket)
    path = _inside(base / bucket, base)
    if not path.is_dir():
        raise NoSuchBucket(bucket)
    return path


def key_path(bucket_path: Path, key: str) -> Path:
    """Where an object key lives inside a bucket folder (checked, symlinks resolved)."""
    if prefix_problem(key):
        raise OutsideRoot(key)
    return _inside(bucket_path / key, bucket_path)


def join_key(*parts: str | None) -> str:
    """S3 keys joined by single slashes (an empty or missing prefix adds nothing)."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def list_keys(bucket_path: Path, prefix: str, skip: tuple[str, ...] = ()) -> Iterator[tuple[str, Path]]:
    """(key, path) of every regular file whose key starts with `prefix`, in key order.

    Only the folder the prefix points into is walked; keys starting with any of
    `skip` are left out. Symlinks are followed only while they stay inside the bucket."""
    folder, _, _ = prefix.rpartition("/")
    start = key_path(bucket_path, folder) if folder else bucket_path
    if not start.is_dir():
        return
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        dirnames.sort()
        for name in filenames:
            key = os.path.relpath(os.path.join(dirpath, name), bucket_path).replace(os.sep, "/")
            if key.startswith(prefix) and not key.startswith(skip):
                found.append(key)
    for key in sorted(found):
        path = key_path(bucket_path, key)
        if path.is_file():
            yield key, path
