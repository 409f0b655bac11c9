"""Per-worker cache of table metadata, invalidated across workers.

Every request needs its table's key schema; loading it from the database each
time would double the cost of a GetItem. Table changes bump the shared
generation counter (storage.generation), which every lookup compares first.
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

    def _check(self) -> None:
        current = self._generation.read()
        if current != self._seen:
            self._tables.clear()
            self._seen = current

    async def get(self, name: str) -> TableRecord | None:
        self._check()
        record = self._tables.get(name)
        if record is None:
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
            self._tables[name] = record
        return record

    def changed(self) -> None:
        """Call after committing a table change: every worker reloads."""
        self._generation.bump()
        self._tables.clear()
        self._seen = self._generation.read()
