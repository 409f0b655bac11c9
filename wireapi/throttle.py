"""Capacity enforcement: provisioned throughput with DynamoDB's burst, and
on-demand maximums.

Each table, and each GSI with a throughput of its own, has a token bucket per
read and per write. A PROVISIONED bucket refills at the provisioned rate and
holds up to BURST_SECONDS (300) of it, as DynamoDB keeps up to five minutes of
unused capacity for bursts; a new bucket starts full. An on-demand table with
OnDemandThroughput maximums gets a bucket holding one second of its maximum.
LSIs use their table's capacity. A request is refused before any work when
its bucket cannot pay what it is known to cost:

- writes: the item's size for PutItem (UpdateItem/DeleteItem: the minimum,
  1 unit, since the old item is not read yet); what the write really cost is
  charged after it, and may leave the bucket in debt;
- reads: the minimum (0.5 eventually consistent, 1 strongly consistent, 2
  transactional), then the size actually read is charged after the read, as
  DynamoDB does: a large Query can overdraw, and the next requests wait;
- GSI writes: refused while the index's bucket is in debt, charged after.

Where the buckets live (the hot path is memory only; no database round trip):
one server's workers share them through a file mapped in memory in the
server's run directory (extenddb_site.metrics' per-start directory), under an
flock; without one (a management command, bench/micro.py) they live in the
process. Servers sharing a database split every rate and burst evenly: each
takes 1/N of them, N being the live servers of the registry (storage.models.
Server, read every REFRESH_SECONDS by a task of each worker). So the cluster
as a whole never admits more than the table's capacity, and admits all of it
when clients spread over the servers (a load balancer does); a client held
to one server of N gets 1/N. See docs/operations.md.

EXTENDDB_ENFORCE_CAPACITY=false turns all of this off (ConsumedCapacity and
the metrics still count).
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import mmap
import os
import struct
import time
import zlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from storage.backends import TableRecord

from . import errors
from .indexes import write_costs

log = logging.getLogger("extenddb.throttle")

BURST_SECONDS = 300.0
ON_DEMAND_BURST_SECONDS = 1.0
REFRESH_SECONDS = 5.0
SLOTS = 4096
_SLOT = struct.Struct("<Qdd")  # bucket key (0: free), tokens, when they were counted (monotonic)
_PROBES = 32
FILE_NAME = "capacity.buckets"


@dataclass(frozen=True, slots=True)
class Limit:
    """One bucket's rule: the whole cluster's rate (units a second)."""
    key: int
    rate: float
    burst_seconds: float
    provisioned: bool  # False: an on-demand maximum
    write: bool
    index: str | None  # a GSI's name, None for the table
    resource: str  # the table's or index's ARN


@dataclass(frozen=True, slots=True)
class TableLimits:
    read: Limit | None
    write: Limit | None
    gsi_read: dict[str, Limit]
    gsi_write: dict[str, Limit]


_NONE = TableLimits(None, None, {}, {})


def _key(table_id: int, index: str | None, write: bool) -> int:
    return (table_id << 33) | (zlib.crc32(index.encode()) << 1 if index else 0) | int(write)


def _limit_of(table_id: int, arn: str, spec: dict[str, Any], pay_per_request: bool, index: str | None,
              write: bool) -> Limit | None:
    if pay_per_request:
        rate = (spec.get("OnDemandThroughput") or {}).get("MaxWriteRequestUnits" if write else "MaxReadRequestUnits")
        burst = ON_DEMAND_BURST_SECONDS
    else:
        rate = (spec.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits" if write else "ReadCapacityUnits")
        burst = BURST_SECONDS
    if not isinstance(rate, (int, float)) or rate <= 0:
        return None
    resource = f"{arn}/index/{index}" if index else arn
    return Limit(_key(table_id, index, write), float(rate), burst, not pay_per_request, write, index, resource)


def limits(table: TableRecord) -> TableLimits:
    """The table's limits, computed once per cached definition (an UpdateTable
    reaches every server with the catalog's invalidation)."""
    found = table.extra.get("limits")
    if found is None:
        found = table.extra["limits"] = _build(table) if enforcing() else _NONE
    return found


def _build(table: TableRecord) -> TableLimits:
    desc = table.description
    pay = desc.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST"
    arn = desc.get("TableArn", "")
    gsi_read: dict[str, Limit] = {}
    gsi_write: dict[str, Limit] = {}
    for index in desc.get("GlobalSecondaryIndexes", []):
        name = index["IndexName"]
        for write, into in ((False, gsi_read), (True, gsi_write)):
            limit = _limit_of(table.id, arn, index, pay, name, write)
            if limit is not None:
                into[name] = limit
    return TableLimits(_limit_of(table.id, arn, desc, pay, None, False), _limit_of(table.id, arn, desc, pay, None, True),
                       gsi_read, gsi_write)


# --- the buckets -------------------------------------------------------------

class Buckets:
    """Token buckets in a byte buffer: a file mapped by every worker of a server, or
    this process's memory. Open addressing on the bucket key."""

    def __init__(self, path: str | None = None) -> None:
        self._offsets: dict[int, int] = {}  # where each bucket was found
        if path is None:
            self._buf: Any = bytearray(SLOTS * _SLOT.size)
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size < SLOTS * _SLOT.size:
                os.ftruncate(fd, SLOTS * _SLOT.size)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._buf = mmap.mmap(fd, SLOTS * _SLOT.size)
        os.close(fd)  # the mapping stays

    def take(self, limit: Limit, share: float, need: float, cost: float, now: float, force: bool = False) -> bool:
        """Refill, then take `cost` if at least `need` is there (need 0: unless in debt),
        or whatever is there when `force`d (units already consumed).

        Without a lock: two workers updating one bucket in the same microsecond may
        lose one update (a lock would cost more than the rest of this; see the module)."""
        key = limit.key
        buf = self._buf
        offset = self._offsets.get(key)
        if offset is None:
            offset = self._offsets[key] = self._find(key)
        found, tokens, stamp = _SLOT.unpack_from(buf, offset)
        if found != key:  # taken over by another bucket meanwhile
            offset = self._offsets[key] = self._find(key)
            found, tokens, stamp = _SLOT.unpack_from(buf, offset)
        rate = limit.rate * share
        burst = rate * limit.burst_seconds
        if found != key:
            tokens = burst  # a new bucket starts full
        else:
            tokens += (now - stamp) * rate
            if tokens > burst:
                tokens = burst
        ok = force or tokens >= (need if need < burst else burst)
        if ok:
            tokens -= cost
        _SLOT.pack_into(buf, offset, key, tokens, now)
        return ok

    def _find(self, key: int) -> int:
        """The offset of the key's slot, or of a free one for it."""
        buf = self._buf
        home = key % SLOTS
        for probe in range(_PROBES):
            offset = ((home + probe) % SLOTS) * _SLOT.size
            found = _SLOT.unpack_from(buf, offset)[0]
            if found == key or found == 0:
                return offset
        # Full around here (thousands of tables): take the home slot over, as a new bucket.
        return home * _SLOT.size


_monotonic = time.monotonic
_buckets: Buckets | None = None
_enforce: bool | None = None
_share = 1.0  # this server's part of every rate: 1 / the live servers on the database
_refresher: asyncio.Task | None = None


def enforcing() -> bool:
    global _enforce
    if _enforce is None:
        _enforce = bool(getattr(settings, "EXTENDDB_ENFORCE_CAPACITY", True))
    return _enforce


def buckets() -> Buckets:
    global _buckets
    if _buckets is None:
        run_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        try:
            _buckets = Buckets(os.path.join(run_dir, FILE_NAME) if run_dir else None)
        except OSError as exc:  # no shared file: this worker counts alone
            log.warning("capacity buckets not shared between workers: %s", exc)
            _buckets = Buckets(None)
    return _buckets


def start() -> None:
    """In each worker at startup: keep this server's share of every rate fresh, off the
    request path (without it, as in bench/micro.py, the share is the whole)."""
    global _refresher
    if enforcing() and _refresher is None:
        _refresher = asyncio.get_running_loop().create_task(_refresh_forever(), name="extenddb-capacity-share")


def stop() -> None:
    global _refresher
    if _refresher is not None:
        _refresher.cancel()
        _refresher = None


async def _refresh_forever() -> None:
    while True:
        await _refresh_share()
        await asyncio.sleep(REFRESH_SECONDS)


async def _refresh_share() -> None:
    global _share
    from .background import SERVER_ALIVE_SECONDS
    from .runtime import get_runtime

    try:
        servers = await get_runtime().backend.list_servers()
    except Exception as exc:  # the database is away: keep the last share
        log.debug("capacity share not refreshed: %s", exc)
        return
    alive = sum(1 for s in servers if s.heartbeat_at >= time.time() - SERVER_ALIVE_SECONDS)
    _share = 1.0 / max(1, alive)


# --- what the operations call ---------------------------------------------------

def admit(limit: Limit, need: float, cost: float | None = None, now: float | None = None) -> bool:
    """Whether the bucket lets a request of at least `need` units through (taking `cost`, by default `need`)."""
    if now is None:
        now = _monotonic()
    return (_buckets or buckets()).take(limit, _share, need, need if cost is None else cost, now)


def charge(limit: Limit, units: float) -> None:
    """Units consumed beyond what admit() took (the bucket may go into debt)."""
    if units > 0:
        now = _monotonic()
        (_buckets or buckets()).take(limit, _share, 0.0, units, now, True)


def error(limit: Limit) -> errors.DynamoDBError:
    """What a refused request answers."""
    return errors.throughput_exceeded(limit.provisioned, limit.index is not None, limit.write, limit.resource)


def check_read(table: TableRecord, index: str | None, need: float) -> Limit | None:
    """Before a read: refuse it (raise) if its bucket is empty. The limit to charge after, or None."""
    tl = limits(table)
    limit = tl.gsi_read.get(index) if index is not None else tl.read
    if limit is None:
        return None
    if not admit(limit, need):
        raise error(limit)
    return limit


def check_write(table: TableRecord, need: float) -> TableLimits | None:
    """Before a write of `need` units: refuse it (raise) if the table's bucket cannot pay,
    or a GSI's bucket is in debt. The limits to charge after, or None."""
    tl = limits(table)
    if tl.write is None and not tl.gsi_write:
        return None
    refused = try_write(tl, need)
    if refused is not None:
        raise error(refused)
    return tl


def try_write(tl: TableLimits, need: float) -> Limit | None:
    """check_write without raising: the refusing limit, or None when admitted."""
    now = time.monotonic()
    for limit in tl.gsi_write.values():
        if not admit(limit, 0.0, 0.0, now):
            return limit
    if tl.write is not None and not admit(tl.write, need, need, now):
        return tl.write
    return None


def charge_write(tl: TableLimits | None, table: TableRecord, units: float, taken: float,
                 old: dict[str, Any] | None, new: dict[str, Any] | None, transactional: bool = False) -> None:
    """After a write: the table's units beyond those taken, and what the write cost each
    GSI with a capacity of its own (by DynamoDB's rules: wireapi.indexes.write_costs)."""
    if tl is None:
        return
    if tl.write is not None:
        charge(tl.write, units - taken)
    if tl.gsi_write:
        for spec, spent in write_costs(table.extra.get("indexes", []), old, new, transactional):
            limit = tl.gsi_write.get(spec.name)
            if limit is not None:
                charge(limit, spent)
