"""The storage interface the protocol layer is written against.

A backend stores tables (a name, a status and a JSON description) and items
(an order-preserving encoded key, the item's DynamoDB JSON bytes and its
size). Conditional writes run inside `transaction()`, which locks the rows it
reads so there is no window between a condition check and the write.
"""
from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any


class WriteConflict(Exception):
    """A concurrent writer created the same row first; the caller retries."""


class TableExists(Exception):
    pass


@dataclass
class TableRecord:
    id: int
    name: str
    status: str
    created_at: float  # epoch seconds
    description: dict[str, Any]
    # Derived, protocol-level data the catalog cache attaches (key schema…).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KeyRange:
    """Bounds on an encoded range key (None: unbounded on that side)."""

    low: bytes | None = None
    low_inclusive: bool = True
    high: bytes | None = None
    high_inclusive: bool = True


@dataclass(frozen=True)
class IndexRecord:
    id: int
    name: str
    kind: str  # "GSI" or "LSI"
    status: str


# Rows the read primitives return; `size` is the stored item size in bytes.
QueryRow = tuple[bytes, bytes, int]  # (range_key, body, size)
IndexRow = tuple[bytes, bytes, bytes, bytes, int]  # (index_range, hash_key, range_key, body, size)
ScanRow = tuple[bytes, bytes, bytes, int]  # (hash_key, range_key, body, size)
IndexScanRow = tuple[bytes, bytes, bytes, bytes, bytes, int]  # (index_hash, index_range, hash_key, range_key, body, size)


@dataclass(frozen=True)
class AccessKeyRecord:
    access_key_id: str
    secret_ciphertext: bytes
    status: str
    user_name: str


class Transaction(abc.ABC):
    """One database transaction; every row read through it stays locked until commit."""

    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None: ...

    @abc.abstractmethod
    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int,
                       existed: bool) -> None:
        """Write an item read earlier in this transaction (`existed` says whether it was there).

        Inserting a row another transaction created meanwhile raises WriteConflict.
        """

    @abc.abstractmethod
    async def delete_item(self, table_id: int, pk: bytes, sk: bytes) -> None: ...

    @abc.abstractmethod
    async def put_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                              pk: bytes, sk: bytes, body: bytes, size: int) -> None: ...

    @abc.abstractmethod
    async def insert_token(self, token: str, request_hash: bytes, response: bytes, created_at: float,
                           expired_before: float) -> None:
        """Record an idempotency token (purging expired ones); WriteConflict if it exists."""

    @abc.abstractmethod
    async def delete_index_entry(self, index_id: int, index_hash: bytes, index_range: bytes,
                                 pk: bytes, sk: bytes) -> None: ...


class Snapshot(abc.ABC):
    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None: ...


class StorageBackend(abc.ABC):
    vendor: str

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (pools, prepared statements). Called once per worker."""

    async def close(self) -> None:  # noqa: B027
        pass

    # --- tables ------------------------------------------------------------
    @abc.abstractmethod
    async def load_table(self, name: str) -> TableRecord | None: ...

    @abc.abstractmethod
    async def create_table(self, name: str, description: dict[str, Any], status: str,
                           created_at: float, indexes: list[tuple[str, str]] = ()) -> TableRecord:
        """Create the table and its (name, kind) indexes in one transaction.

        Raise TableExists if the name is taken."""

    @abc.abstractmethod
    async def save_table(self, record: TableRecord) -> None: ...

    @abc.abstractmethod
    async def drop_table(self, table_id: int) -> None:
        """Delete the table and all its items in one transaction."""

    @abc.abstractmethod
    async def list_table_names(self, after: str | None, limit: int) -> list[str]: ...

    @abc.abstractmethod
    async def table_stats(self, table_id: int) -> tuple[int, int]:
        """(item count, total item bytes)."""

    # --- secondary indexes ---------------------------------------------------
    @abc.abstractmethod
    async def create_index(self, table_id: int, name: str, kind: str, status: str) -> int: ...

    @abc.abstractmethod
    async def set_index_status(self, index_id: int, status: str) -> None: ...

    @abc.abstractmethod
    async def drop_index(self, index_id: int) -> None:
        """Delete the index and its entries in one transaction."""

    @abc.abstractmethod
    async def list_indexes(self, table_id: int) -> list[IndexRecord]: ...

    @abc.abstractmethod
    async def index_stats(self, index_id: int) -> tuple[int, int]: ...

    # --- reads over ranges ----------------------------------------------------
    @abc.abstractmethod
    async def query(self, table_id: int, pk: bytes, rng: KeyRange, forward: bool,
                    after: bytes | None, limit: int) -> list[QueryRow]:
        """Items of one partition in range-key order, after (exclusive) a range key."""

    @abc.abstractmethod
    async def query_index(self, index_id: int, index_hash: bytes, rng: KeyRange, forward: bool,
                          after: tuple[bytes, bytes, bytes] | None, limit: int) -> list[IndexRow]:
        """Entries of one index partition in (index range, base key) order."""

    @abc.abstractmethod
    async def scan(self, table_id: int, after: tuple[bytes, bytes] | None,
                   segment: tuple[int, int] | None, limit: int) -> list[ScanRow]:
        """Items in key order; `segment` is a [low, high) range of segment hashes
        (storage.backends.sql.segment_hash, 0..65535) for parallel scans."""

    @abc.abstractmethod
    async def scan_index(self, index_id: int, after: tuple[bytes, bytes, bytes, bytes] | None,
                         limit: int) -> list[IndexScanRow]: ...

    @abc.abstractmethod
    async def get_items(self, table_id: int, keys: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], bytes]:
        """Many items of one table in one round trip (missing keys are absent)."""

    # --- items -------------------------------------------------------------
    @abc.abstractmethod
    async def get_item(self, table_id: int, pk: bytes, sk: bytes) -> bytes | None: ...

    @abc.abstractmethod
    async def put_item(self, table_id: int, pk: bytes, sk: bytes, body: bytes, size: int) -> None:
        """Unconditional upsert in its own transaction."""

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    @abc.abstractmethod
    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]:
        """A read-only view of one consistent moment (TransactGetItems), taking no locks."""

    @abc.abstractmethod
    async def fetch_token(self, token: str) -> tuple[bytes, bytes, float] | None:
        """(request hash, response, created_at) of an idempotency token."""

    # --- credentials -------------------------------------------------------
    @abc.abstractmethod
    async def fetch_access_key(self, access_key_id: str) -> AccessKeyRecord | None: ...
