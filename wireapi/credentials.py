"""Per-worker cache of access keys and their users' compiled policies
(decrypted secrets stay in memory only).

Entries live for a few seconds and are dropped at once when the database's
generation moves (any committed change to keys, users, groups, policies or
attachments moves it: database triggers on PostgreSQL, accounts.signals on
SQLite), so a deactivated key or a changed policy takes effect on every
worker of every server within the generation's bound (storage.generation).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from accounts.crypto import decrypt_secret
from accounts.policy import PolicySet, compile_policies
from storage.backends import StorageBackend
from storage.generation import Generation

log = logging.getLogger("extenddb.wireapi")

TTL_SECONDS = 5.0
# last_used_at is written at most this often per key per worker, in batches (wireapi.audit).
LAST_USED_INTERVAL = 60.0


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret: str
    user_name: str
    active: bool
    # The user's own and its groups' policies, compiled (None: not loaded; authz denies).
    policies: PolicySet | None = None
    # Epoch seconds from which the key is refused (None: never). Compared with the clock at
    # every request, so an expiry needs no cache invalidation to take effect.
    expires_at: float | None = None

    def usable(self, now: float) -> bool:
        return self.active and (self.expires_at is None or now < self.expires_at)


class CredentialCache:
    def __init__(self, backend: StorageBackend, generation: Generation) -> None:
        self._backend = backend
        self._generation = generation
        self._seen = generation.read()
        self._entries: dict[str, tuple[float, Credential | None]] = {}
        self._policies: dict[str, tuple[float, PolicySet]] = {}
        self._touched: dict[str, float] = {}  # key ID -> monotonic time last_used_at was queued
        self._pending_use: dict[str, datetime] = {}

    async def lookup(self, access_key_id: str) -> Credential | None:
        now = time.monotonic()
        current = self._generation.read()
        if current != self._seen:
            self._entries.clear()
            self._policies.clear()
            self._seen = current
        hit = self._entries.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = await self._backend.fetch_access_key(access_key_id)
        cred = None
        if record is not None:
            policies = await self._policies_of(record.user_name, now, current) if record.status == "Active" else None
            cred = Credential(record.access_key_id, decrypt_secret(record.secret_ciphertext),
                              record.user_name, record.status == "Active", policies, record.expires_at)
        if self._generation.read() == current:  # not a row read just before a change committed
            if len(self._entries) > 10_000:  # bound memory against key-guessing clients
                self._entries.clear()
            self._entries[access_key_id] = (now + TTL_SECONDS, cred)
        return cred

    async def _policies_of(self, user_name: str, now: float, generation: int) -> PolicySet:
        hit = self._policies.get(user_name)
        if hit is not None and hit[0] > now:
            return hit[1]
        compiled = compile_policies(await self._backend.fetch_user_policies(user_name))
        if self._generation.read() == generation:
            if len(self._policies) > 10_000:
                self._policies.clear()
            self._policies[user_name] = (now + TTL_SECONDS, compiled)
        return compiled

    # --- last use of keys -----------------------------------------------------
    def note_use(self, access_key_id: str) -> None:
        """Called for every authenticated request: queue a last_used_at update at most once a minute."""
        now = time.monotonic()
        last = self._touched.get(access_key_id)
        if last is not None and now - last < LAST_USED_INTERVAL:
            return
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[access_key_id] = now
        self._pending_use[access_key_id] = datetime.now(timezone.utc)

    async def flush_use(self) -> None:
        """Write queued last_used_at values (from the access log's flush loop, never a request)."""
        if not self._pending_use:
            return
        pending, self._pending_use = self._pending_use, {}
        try:  # one timestamp for the batch: last_used_at is accurate to the flush interval
            await self._backend.touch_access_keys(sorted(pending), max(pending.values()))
        except Exception as exc:  # a database hiccup must not matter: it is only a hint
            log.warning("could not record key use: %s", exc)
