"""Background work of `manage.py serve`, in one process beside the HTTP workers.

Each entry of BACKGROUND_TASKS names a coroutine function ("module:function")
taking no arguments and running until cancelled (the TTL sweeper, import and
export jobs). A task that raises is logged and restarted after a pause, so
one bad item never stops the others. One entry a line.
"""
from __future__ import annotations

import asyncio
import ctypes
import importlib
import logging
import os
import signal

log = logging.getLogger("extenddb.background")

BACKGROUND_TASKS: tuple[str, ...] = (
    "wireapi.ttl_sweeper:run_forever",
    "wireapi.transfer.runner:run_jobs",
    "wireapi.audit:purge_forever",
    "wireapi.pitr_retention:run_forever",
)

RESTART_PAUSE_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1


async def _supervise(target: str) -> None:
    module_name, _, func_name = target.partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    while True:
        try:
            await func()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s failed; restarting", target)
            await asyncio.sleep(RESTART_PAUSE_SECONDS)


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


async def main(parent_pid: int, tasks: tuple[str, ...] = BACKGROUND_TASKS) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running = [asyncio.create_task(_supervise(t)) for t in tasks]
    watcher = asyncio.create_task(_watch_parent(stop, parent_pid))
    await stop.wait()
    watcher.cancel()
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    from .runtime import shutdown

    await shutdown()


def run(parent_pid: int) -> None:
    """Process entry point (multiprocessing spawn)."""
    die_with_parent(parent_pid)
    import django

    django.setup()
    asyncio.run(main(parent_pid))
