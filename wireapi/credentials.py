"""Per-worker cache of access keys (decrypted secrets stay in memory only).

Entries live for a few seconds and are dropped at once when the shared
generation counter moves, so a deactivated or deleted key stops working
within seconds on every worker.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from accounts.crypto import decrypt_secret
from storage.backends import StorageBackend
from storage.generation import Generation

TTL_SECONDS = 5.0


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret: str
    user_name: str
    active: bool


class CredentialCache:
    def __init__(self, backend: StorageBackend, generation: Generation) -> None:
        self._backend = backend
        self._generation = generation
        self._seen = generation.read()
        self._entries: dict[str, tuple[float, Credential | None]] = {}

    async def lookup(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        current = self._generation.read()
        if current != self._seen:
            self._entries.clear()
            self._seen = current
        hit = self._entries.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = await self._backend.fetch_access_key(access_key_id)
        cred = None
        if record is not None:
            cred = Credential(record.access_key_id, decrypt_secret(record.secret_ciphertext),
                              record.user_name, record.status == "Active")
        if len(self._entries) > 10_000:  # bound memory against key-guessing clients
            self._entries.clear()
        self._entries[access_key_id] = (now + TTL_SECONDS, cred)
        return cred
