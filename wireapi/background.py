"""Background work of `manage.py serve`, in one process beside the HTTP workers.

Each entry of BACKGROUND_TASKS names a coroutine function ("module:function")
taking no arguments and running until cancelled (the TTL sweeper, import and
export jobs, GSI backfills, access-log retention). Each runs once per cluster,
not once per server: the server that holds its lease runs it
(StorageBackend.try_lease: a PostgreSQL advisory lock, released by the
database when its holder dies; a lock file on single-host SQLite). The others
try again every ELECTION_RETRY_SECONDS, so when a server dies its work moves to
another within that plus the time the database takes to notice (see
storage.backends.pg_leases). A task that raises is logged and restarted after a
pause, so one bad item never stops the others. One entry a line.

The process also keeps this server's row in the server registry
(storage.models.Server): which servers share the database, which work each
one runs (`manage.py servers`).
"""
from __future__ import annotations

import asyncio
import ctypes
import importlib
import logging
import os
import signal
import socket
import time
import uuid

from storage.backends.base import ServerRecord

log = logging.getLogger("extenddb.background")

BACKGROUND_TASKS: tuple[str, ...] = (
    "wireapi.ttl_sweeper:run_forever",
    "wireapi.transfer.runner:run_jobs",
    "wireapi.audit:purge_forever",
    "wireapi.pitr_retention:run_forever",
    "wireapi.backfill:run_backfills",
)

RESTART_PAUSE_SECONDS = 5.0
ELECTION_RETRY_SECONDS = 2.0
HEARTBEAT_SECONDS = 5.0
# A server whose heartbeat is older than this is taken for dead (and its row
# removed after FORGET_SECONDS).
SERVER_ALIVE_SECONDS = 3 * HEARTBEAT_SECONDS
FORGET_SECONDS = 3600.0
_PR_SET_PDEATHSIG = 1

# The entries this process runs now (the registry reports them).
leading: set[str] = set()


def _resolve(target: str):  # type: ignore[no-untyped-def]
    module_name, _, func_name = target.partition(":")
    return getattr(importlib.import_module(module_name), func_name)


async def _supervise(target: str) -> None:
    from .runtime import get_runtime

    func = _resolve(target)
    backend = get_runtime().backend
    while True:
        try:
            lease = await backend.try_lease(target)
        except Exception as exc:  # the database is away: try again later
            log.warning("background task %s: no election (%s)", target, exc)
            lease = None
        if lease is None:
            await asyncio.sleep(ELECTION_RETRY_SECONDS)
            continue
        leading.add(target)
        log.info("background task %s runs on this server", target)
        work = asyncio.create_task(func(), name=target)
        lost = asyncio.create_task(lease.lost.wait())
        try:
            done, _ = await asyncio.wait({work, lost}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()
            lost.cancel()
            await asyncio.gather(work, return_exceptions=True)
            leading.discard(target)
            await lease.release()
            raise
        leading.discard(target)
        lost.cancel()
        if work not in done:
            # The database may already have given the lease to another server: stop at once.
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            log.warning("background task %s stopped: its lease was lost", target)
            continue
        await lease.release()
        if work.exception() is None:
            return
        log.error("background task %s failed; restarting", target, exc_info=work.exception())
        await asyncio.sleep(RESTART_PAUSE_SECONDS)


def _version() -> str:
    try:
        from extenddb_site.version import __version__
    except ImportError:
        return ""
    return str(__version__)


async def _heartbeat(port: int) -> None:
    """This server's registry row, refreshed; rows of long-dead servers are removed."""
    from .runtime import get_runtime

    backend = get_runtime().backend
    started = time.time()
    record = dict(server_id=uuid.uuid4().hex, host=socket.gethostname(), port=port, pid=os.getppid(),
                  version=_version(), started_at=started)
    try:
        while True:
            now = time.time()
            try:
                await backend.heartbeat_server(ServerRecord(**record, heartbeat_at=now, leads=tuple(sorted(leading))))
                for server in await backend.list_servers():
                    if server.heartbeat_at < now - FORGET_SECONDS:
                        await backend.remove_server(server.server_id)
            except Exception as exc:  # the database is away: the registry can wait
                log.debug("server registry: %s", exc)
            await asyncio.sleep(HEARTBEAT_SECONDS)
    finally:
        try:
            await backend.remove_server(record["server_id"])
        except Exception:
            pass


def die_with_parent(parent_pid: int) -> None:
    """Make a child of `serve` go when `serve` goes, even if it was SIGKILLed.

    Linux sends SIGTERM on the parent's death (PR_SET_PDEATHSIG); a parent
    already gone before that was set is caught by comparing the pid."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: _watch_parent still notices
        pass
    if os.getppid() != parent_pid:
        os._exit(0)


async def _watch_parent(stop: asyncio.Event, parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        await asyncio.sleep(1.0)
    stop.set()


async def main(parent_pid: int, tasks: tuple[str, ...] = BACKGROUND_TASKS, port: int = 0) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    from .runtime import get_runtime, shutdown

    try:
        await get_runtime().backend.open()  # once, before the tasks start together
    except Exception as exc:  # the database may come up later: the tasks retry
        log.warning("storage not reachable at startup: %s", exc)
    running = [asyncio.create_task(_supervise(t)) for t in tasks]
    running.append(asyncio.create_task(_heartbeat(port)))
    watcher = asyncio.create_task(_watch_parent(stop, parent_pid))
    await stop.wait()
    watcher.cancel()
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    await shutdown()


def run(parent_pid: int, port: int = 0) -> None:
    """Process entry point (multiprocessing spawn)."""
    die_with_parent(parent_pid)
    import django

    django.setup()
    asyncio.run(main(parent_pid, port=port))
