"""uvicorn's worker supervisor, with workers forked from a warmed parent.

uvicorn spawns each worker: a fresh interpreter that imports Django, the wire
protocol and botocore's service model again (about half a second of CPU per
worker, all workers at once on a small machine). `manage.py serve` instead
loads and warms everything once in the parent (wireapi.app.settle_heap: the
imports, then gc.freeze()) and forks the workers from it, so each one starts
warm, with its startup heap frozen, in a few milliseconds, and a worker that
dies is replaced as fast. The parent must stay fork-safe until then: no
database connection open (closed by `serve` before it forks), no thread, no
event loop.

Supervisor also tells when the endpoint is ready: once every worker reports
its server started (uvicorn's own health-check pipe), so `serve` prints
`Endpoint:` only when the port answers.
"""
from __future__ import annotations

import multiprocessing
import signal
import socket
from collections.abc import Callable
from typing import Any

from uvicorn._subprocess import subprocess_started
from uvicorn.config import Config
from uvicorn.supervisors import multiprocess

_FORK = multiprocessing.get_context("fork")
READY_POLL_SECONDS = 0.01


def _default_signals() -> None:
    # The parent's Python-level handlers (uvicorn's supervisor queue) are inherited by
    # fork; a child starts from the defaults, as a spawned one does, until it installs its own.
    for sig in multiprocess.SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def _worker_main(**kwargs: Any) -> None:
    _default_signals()
    subprocess_started(**kwargs)


def _child_main(target: Callable[..., None], *args: Any) -> None:
    _default_signals()
    target(*args)


def fork_process(target: Callable[..., None], *args: Any) -> multiprocessing.process.BaseProcess:
    """Start `target(*args)` in a child forked from this (warmed) process, like a worker."""
    process = _FORK.Process(target=_child_main, args=(target, *args), daemon=True)
    process.start()
    return process


class ForkedWorker(multiprocess.Process):
    """uvicorn's worker process object, forked instead of spawned."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)  # builds a spawn process object that is never started
        self.process = _FORK.Process(target=_worker_main, kwargs={
            "config": config, "target": self.target, "sockets": sockets, "stdin_fileno": None})


# Every place uvicorn's supervisor creates a worker (start, restart on death,
# SIGHUP, SIGTTIN) goes through this module-level name.
multiprocess.Process = ForkedWorker  # type: ignore[misc]


class Supervisor(multiprocess.Multiprocess):
    """uvicorn's Multiprocess, calling `on_ready` once every worker serves and
    `on_gone(pid)` for a worker that died (and was replaced)."""

    def __init__(self, config: Config, sockets: list[socket.socket], on_ready: Callable[[], None],
                 on_gone: Callable[[int], None] = lambda pid: None) -> None:
        super().__init__(config, sockets)
        self._on_ready, self._on_gone = on_ready, on_gone
        self.startup_failed = False  # a worker exited before its server started (uvicorn stops then)

    def _wait_ready(self) -> bool:
        """True once every worker's server has started; False if the server is stopping."""
        ready: set[multiprocess.Process] = set()
        while not all(p in ready for p in self.processes):
            if self.should_exit.wait(READY_POLL_SECONDS):
                return False
            self.handle_signals()
            if any(not p.process.is_alive() for p in self.processes):
                self.keep_subprocess_alive()  # stops everything after a startup failure, else replaces it
                if self.should_exit.is_set():
                    self.startup_failed = True
                    return False
            ready.update(p for p in self.processes if p not in ready and p.is_ready(timeout=READY_POLL_SECONDS))
        return True

    def handle_hup(self) -> None:
        # Workers fork from this process and inherit its TLS context: load the certificate
        # files as they are now (a renewal) first; a broken pair keeps the workers as they are.
        from extenddb_site.tls import reload_context

        if reload_context(self.config):
            super().handle_hup()

    def keep_subprocess_alive(self) -> None:
        before = {p.pid for p in self.processes}
        super().keep_subprocess_alive()
        for pid in before - {p.pid for p in self.processes}:
            if pid is not None:
                self._on_gone(pid)

    def run(self) -> None:
        self.init_processes()
        if self._wait_ready():
            self._on_ready()
        while not self.should_exit.wait(0.5):
            self.handle_signals()
            self.keep_subprocess_alive()
        self.terminate_all()
        self.join_all()
