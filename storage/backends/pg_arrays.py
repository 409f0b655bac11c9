"""Array parameters of the batched statements, dumped in PostgreSQL's binary format.

Concurrent requests share a statement whose parameters are columns: `unnest(%b::bigint[],
%b::bytea[], ...)`. psycopg dumps a plain list in Python, element by element, after
scanning it for its element type (get_key, then upgrade): three 8-element arrays cost
~41 µs of the worker's CPU, a third of what the whole statement is for. These list
types carry their element type, so psycopg picks the dumper by class and the array is
packed in one struct call (~10 µs for the same three).

Binary array format (src/backend/utils/adt/arrayfuncs.c, array_recv): ndim, has-null
flag, element type oid, then per dimension its length and lower bound (1), then per
element its length (-1: NULL) and its bytes.
"""
from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache

import psycopg
from psycopg import pq
from psycopg.adapt import Dumper

_HEADER = struct.Struct("!iiIii")
_EMPTY = struct.Struct("!iiI")
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)


class Int8Array(list):
    """bigint[] (no NULLs)."""


class Int4Array(list):
    """integer[] (no NULLs)."""


class ByteaArray(list):
    """bytea[]; None elements are NULL."""


@lru_cache(maxsize=256)
def _fixed(code: str, n: int) -> struct.Struct:
    return struct.Struct("!" + code * n)


class _FixedWidthDumper(Dumper):
    format = pq.Format.BINARY
    element_oid = 0
    code = ""  # struct codes of one element: its length, then the value
    width = 0

    def dump(self, obj: list) -> bytes:
        n = len(obj)
        if not n:
            return _EMPTY.pack(0, 0, self.element_oid)
        values = [self.width, 0] * n
        values[1::2] = obj
        return _HEADER.pack(1, 0, self.element_oid, n, 1) + _fixed(self.code, n).pack(*values)


class Int8ArrayDumper(_FixedWidthDumper):
    oid = 1016  # _int8
    element_oid = 20
    code, width = "iq", 8


class Int4ArrayDumper(_FixedWidthDumper):
    oid = 1007  # _int4
    element_oid = 23
    code, width = "ii", 4


class ByteaArrayDumper(Dumper):
    format = pq.Format.BINARY
    oid = 1001  # _bytea

    def dump(self, obj: list) -> bytes:
        n = len(obj)
        if not n:
            return _EMPTY.pack(0, 0, 17)
        pack = _LENGTH.pack
        parts = [b""]
        has_null = 0
        for value in obj:
            if value is None:
                parts.append(_NULL)
                has_null = 1
            else:
                parts.append(pack(len(value)))
                parts.append(value)
        parts[0] = _HEADER.pack(1, has_null, 17, n, 1)
        return b"".join(parts)


_KINDS = {"q": Int8Array, "i": Int4Array, "b": ByteaArray}


def columns(rows: Iterable[Sequence], kinds: str) -> tuple[list, ...]:
    """The rows as one typed array per column: kinds has a letter a column
    (q bigint, i integer, b bytea), e.g. "qbb" for (table_id, hash_key, range_key)."""
    cols = list(zip(*rows)) or [()] * len(kinds)
    return tuple(_KINDS[kind](column) for kind, column in zip(kinds, cols, strict=True))


for _cls, _dumper in ((Int8Array, Int8ArrayDumper), (Int4Array, Int4ArrayDumper), (ByteaArray, ByteaArrayDumper)):
    # Our own list types only: every other list (Django's included) keeps psycopg's dumper.
    psycopg.adapters.register_dumper(_cls, _dumper)
