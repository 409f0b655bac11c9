"""What one worker process holds for the request path: the storage backend,
the table catalog and the credential cache. Built once, on first use."""
from __future__ import annotations

from dataclasses import dataclass

from storage.backends import StorageBackend, get_backend
from storage.generation import Generation

from .catalog import Catalog
from .credentials import CredentialCache


@dataclass
class Runtime:
    backend: StorageBackend
    catalog: Catalog
    credentials: CredentialCache
    generation: Generation


_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        backend = get_backend()
        generation = backend.generation
        _runtime = Runtime(backend, Catalog(backend, generation),
                           CredentialCache(backend, generation), generation)
    return _runtime


async def shutdown() -> None:
    global _runtime
    if _runtime is not None:
        await _runtime.backend.close()
        _runtime = None
