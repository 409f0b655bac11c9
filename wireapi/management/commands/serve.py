"""`manage.py serve`: the DynamoDB endpoint and the admin over HTTPS.

uvicorn (uvloop + httptools) with several worker processes serves
extenddb_site.asgi; see shared/DESIGN.md for why not daphne or runserver.
The ports are bound first (a port in use is a clear error naming it), then
everything a request needs is loaded and warmed once here and the workers
are forked from this process (extenddb_site.supervisor), and `Endpoint:` is
printed once every worker serves.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
import ssl
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from extenddb_site import logs, metrics
from extenddb_site.http_endpoint import EndpointHttpProtocol
from extenddb_site.tls import ensure_self_signed
from extenddb_site.version import __version__
from storage.generation import SingleHostError, claim_single_host
from wireapi import background

APP = "extenddb_site.asgi:application"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _uvicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    # httptools with header/body deadlines against slow clients (extenddb_site.http_timeouts),
    # one write per response (extenddb_site.http_writes) and the endpoint's `POST /` served
    # without the ASGI round (extenddb_site.http_endpoint);
    # limit_concurrency bounds connections and tasks per worker (503 past it).
    # log_config=None: uvicorn's loggers print through settings.LOGGING like every other.
    return dict(host=host, port=port, workers=workers, loop="uvloop", http=EndpointHttpProtocol,
                lifespan="on", log_config=None, log_level="warning", access_log=False, server_header=False,
                timeout_keep_alive=75, timeout_graceful_shutdown=settings.EXTENDDB_GRACEFUL_SHUTDOWN_SECONDS,
                limit_concurrency=settings.EXTENDDB_MAX_CONNECTIONS, proxy_headers=False,
                # SIGHUP starts each new worker before stopping an old one; on a loaded host one
                # can take longer than uvicorn's 5 s to report ready, which abandons the reload.
                timeout_worker_healthcheck=30)


def listen(host: str, port: int, scheme: str) -> socket.socket:
    """The listening socket, bound as uvicorn binds it; CommandError naming the address if it cannot be."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    address = f"{scheme}://[{host}]:{port}" if family == socket.AF_INET6 else f"{scheme}://{host}:{port}"
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"cannot listen on {address}: the port is in use (another server?); "
                               "choose another with --port") from None
        raise CommandError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    sock.listen(2048)  # uvicorn's backlog: from here on connections wait for a worker instead of failing
    return sock


def _serve_plaintext(config: uvicorn.Config, sock: socket.socket, parent_pid: int) -> None:
    background.die_with_parent(parent_pid)
    uvicorn.Server(config).run(sockets=[sock])


class Command(BaseCommand):
    help = "Serve the DynamoDB endpoint (HTTPS) and the web admin."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.EXTENDDB_HOST,
                            help="address to listen on for HTTPS (0.0.0.0 for every IPv4 address; "
                                 "default EXTENDDB_HOST or 127.0.0.1); the self-signed certificate covers it")
        parser.add_argument("--port", type=int, default=settings.EXTENDDB_PORT,
                            help="HTTPS port of the endpoint and the admin (default EXTENDDB_PORT or 8000)")
        parser.add_argument("--workers", type=int, default=settings.EXTENDDB_WORKERS,
                            help="server worker processes (default EXTENDDB_WORKERS or 2); SIGHUP replaces "
                                 "them one by one, reloading the certificate")
        parser.add_argument("--cert", default=settings.EXTENDDB_TLS_CERT,
                            help="PEM certificate chain of a CA-signed pair, the server's certificate first "
                                 "(default EXTENDDB_TLS_CERT; none: a self-signed one in the data directory)")
        parser.add_argument("--key", default=settings.EXTENDDB_TLS_KEY,
                            help="PEM private key of --cert, unencrypted, readable by the server's user only "
                                 "(default EXTENDDB_TLS_KEY)")
        parser.add_argument("--plaintext-port", type=int, default=None,
                            help="also listen without TLS on this port, on loopback only")
        parser.add_argument("--plaintext-host", default="127.0.0.1",
                            help="loopback address of the plaintext listener (default 127.0.0.1)")
        parser.add_argument("--no-background", action="store_true",
                            help="do not run background work (TTL sweeper, import/export jobs)")
        parser.add_argument("--init", action="store_true",
                            help="first apply pending migrations, create a first access key and web admin "
                                 "if there are none (what bootstrap.py serve does); costs nothing when "
                                 "there is nothing to do")

    def say(self, message: str, **fields: Any) -> None:
        self.stdout.write(logs.banner(message, settings.EXTENDDB_LOG_FORMAT, **fields))
        self.stdout.flush()

    def handle(self, *args, **opts):
        if bool(opts["cert"]) != bool(opts["key"]):
            raise CommandError("--cert and --key go together")
        if opts["plaintext_port"] is not None and not _is_loopback(opts["plaintext_host"]):
            raise CommandError("the plaintext listener binds to loopback only "
                               f"(refusing {opts['plaintext_host']})")
        host, port, workers = opts["host"], opts["port"], opts["workers"]
        sock = listen(host, port, "https")
        plain_sock = None
        if opts["plaintext_port"] is not None:
            plain_sock = listen(opts["plaintext_host"], opts["plaintext_port"], "http")
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            try:
                claim_single_host(db["NAME"])
            except SingleHostError as exc:
                raise CommandError(str(exc)) from None
        if opts["init"]:
            self.initialise()
        if opts["cert"]:
            cert, key = opts["cert"], opts["key"]
        else:
            cert_path, key_path = ensure_self_signed(settings.DATA_DIR, [host])
            cert, key = str(cert_path), str(key_path)
            self.say(f"TLS certificate (self-signed): {cert}", certificate=cert)
            self.say(f"  export AWS_CA_BUNDLE={cert}")

        # Before anything imports prometheus_client: every process of this start counts there.
        metrics.prepare_directory(settings.DATA_DIR, os.getpid())
        config = uvicorn.Config(APP, ssl_certfile=cert, ssl_keyfile=key,
                                ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS",
                                ssl_version=ssl.PROTOCOL_TLS_SERVER, **_uvicorn_options(host, port, workers))
        config.load()  # the application (Django, the wire protocol), the TLS context: once, inherited
        from wireapi.app import settle_heap

        settle_heap()  # every operation module and the service model loaded, the heap frozen
        from django.db import connections

        connections.close_all()  # no connection crosses a fork

        from extenddb_site.supervisor import Supervisor, fork_process

        def on_ready() -> None:
            # Started once the endpoint serves, so they do not compete with the workers' start.
            if plain_sock is not None:
                plain = uvicorn.Config(APP, **_uvicorn_options(opts["plaintext_host"], opts["plaintext_port"], 1))
                plain.load()
                fork_process(_serve_plaintext, plain, plain_sock, os.getpid())
                self.say(f"Plaintext endpoint (loopback only): http://{opts['plaintext_host']}:"
                         f"{opts['plaintext_port']}")
            if background.BACKGROUND_TASKS and not opts["no_background"]:
                # Background work runs in one process per server; each task on one server of the cluster.
                fork_process(background.run, os.getpid(), port)
            self.say(f"Endpoint: https://{host}:{port}  ({workers} workers, ExtendDB {__version__})",
                     endpoint=f"https://{host}:{port}", workers=workers, version=__version__)

        supervisor = Supervisor(config, [sock], on_ready, metrics.process_gone)
        try:
            supervisor.run()
        finally:
            metrics.remove_directory()
        if supervisor.startup_failed:
            raise CommandError(f"the workers could not start on https://{host}:{port} (see above)")

    def initialise(self) -> None:
        """bootstrap.py's first-run steps, in this process: each a query when there is nothing to do."""
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False, verbosity=0)
        call_command("ensurekey", stdout=self.stdout)
        call_command("createadmin", if_none=True, stdout=self.stdout)  # first start: password shown once
