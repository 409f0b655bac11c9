"""Per-worker cache of table metadata, invalidated across every server.

Every request needs its table's key schema; loading it from the database each
time would double the cost of a GetItem. Any committed change of a table or an
index moves the database's generation (storage.generation), which every
lookup compares first (a memory read): every server drops the entry within the
generation's bound. Reads may act on a definition that old; writes never do:
each write carries the table version it was validated against and is refused
(StaleSchema) if the table moved on, and the request is redone after
`invalidate()` (wireapi.app).
"""
from __future__ import annotations

from storage.backends import StorageBackend, TableRecord
from storage.generation import Generation

from .indexes import build_specs
from .key_schemas import key_schema


class Catalog:
    def __init__(self, backend: StorageBackend, generation: Generation) -> None:
        self._backend = backend
        self._generation = generation
        self._seen = generation.read()
        self._tables: dict[str, TableRecord] = {}

    async def get(self, name: str) -> TableRecord | None:
        current = self._generation.read()
        if current != self._seen:
            self._tables.clear()
            self._seen = current
        record = self._tables.get(name)
        if record is None:
            record = await self._load(name)
            # Kept only if nothing changed while it loaded: a definition read just before
            # a change committed must not outlive the change's notification.
            if record is not None and self._generation.read() == current:
                self._tables[name] = record
        return record

    async def _load(self, name: str) -> TableRecord | None:
        record = await self._backend.load_table(name)
        if record is None:
            return None
        schema = key_schema(record.description)
        record.extra["schema"] = schema
        description = record.description
        if description.get("GlobalSecondaryIndexes") or description.get("LocalSecondaryIndexes"):
            by_name = {r.name: r for r in await self._backend.list_indexes(record.id)}
            record.extra["indexes"] = build_specs(description, schema, by_name)
        else:
            record.extra["indexes"] = []
        return record

    def invalidate(self) -> None:
        """A write was refused as stale: forget every definition (it is rare)."""
        self._tables.clear()

    def changed(self) -> None:
        """Call after committing a table change: this worker reloads at once, every
        other worker and server when the database's generation reaches it."""
        self._generation.changed_here()
        self._tables.clear()
        self._seen = self._generation.read()
