"""`manage.py serve`: the DynamoDB endpoint and the admin over HTTPS.

uvicorn (uvloop + httptools) with several worker processes serves
extenddb_site.asgi; see shared/DESIGN.md for why not daphne or runserver.
"""
from __future__ import annotations

import ipaddress
import multiprocessing
import os
import ssl
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from extenddb_site.http_timeouts import DeadlineHttpToolsProtocol
from extenddb_site.tls import ensure_self_signed
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
    # httptools with header/body deadlines against slow clients (extenddb_site.http_timeouts)
    # and one write per response (extenddb_site.http_writes);
    # limit_concurrency bounds connections and tasks per worker (503 past it).
    return dict(host=host, port=port, workers=workers, loop="uvloop", http=DeadlineHttpToolsProtocol,
                lifespan="on", log_level="warning", access_log=False, server_header=False,
                timeout_keep_alive=75, timeout_graceful_shutdown=settings.EXTENDDB_GRACEFUL_SHUTDOWN_SECONDS,
                limit_concurrency=settings.EXTENDDB_MAX_CONNECTIONS, proxy_headers=False)


def _serve_plaintext(host: str, port: int, parent_pid: int) -> None:
    background.die_with_parent(parent_pid)
    uvicorn.run(APP, **_uvicorn_options(host, port, 1))


class Command(BaseCommand):
    help = "Serve the DynamoDB endpoint (HTTPS) and the web admin."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.EXTENDDB_HOST)
        parser.add_argument("--port", type=int, default=settings.EXTENDDB_PORT)
        parser.add_argument("--workers", type=int, default=settings.EXTENDDB_WORKERS)
        parser.add_argument("--cert", default=settings.EXTENDDB_TLS_CERT,
                            help="PEM certificate (chain) of a CA-signed pair")
        parser.add_argument("--key", default=settings.EXTENDDB_TLS_KEY, help="PEM private key")
        parser.add_argument("--plaintext-port", type=int, default=None,
                            help="also listen without TLS on this port, on loopback only")
        parser.add_argument("--plaintext-host", default="127.0.0.1")
        parser.add_argument("--no-background", action="store_true",
                            help="do not run background work (TTL sweeper, import/export jobs)")

    def handle(self, *args, **opts):
        if bool(opts["cert"]) != bool(opts["key"]):
            raise CommandError("--cert and --key go together")
        if opts["cert"]:
            cert, key = opts["cert"], opts["key"]
        else:
            cert_path, key_path = ensure_self_signed(settings.DATA_DIR, [opts["host"]])
            cert, key = str(cert_path), str(key_path)
            self.stdout.write(f"TLS certificate (self-signed): {cert}")
            self.stdout.write(f"  export AWS_CA_BUNDLE={cert}")
        if opts["plaintext_port"] is not None:
            if not _is_loopback(opts["plaintext_host"]):
                raise CommandError("the plaintext listener binds to loopback only "
                                   f"(refusing {opts['plaintext_host']})")
            proc = multiprocessing.get_context("spawn").Process(
                target=_serve_plaintext, args=(opts["plaintext_host"], opts["plaintext_port"], os.getpid()),
                daemon=True)
            proc.start()
            self.stdout.write(f"Plaintext endpoint (loopback only): "
                              f"http://{opts['plaintext_host']}:{opts['plaintext_port']}")
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            try:
                claim_single_host(db["NAME"])
            except SingleHostError as exc:
                raise CommandError(str(exc)) from None
        if background.BACKGROUND_TASKS and not opts["no_background"]:
            # Background work runs in one process per server; each task on one server of the cluster.
            multiprocessing.get_context("spawn").Process(target=background.run, args=(os.getpid(), opts["port"]),
                                                  daemon=True).start()
        self.stdout.write(f"Endpoint: https://{opts['host']}:{opts['port']}  "
                          f"({opts['workers']} workers)")
        self.stdout.flush()
        uvicorn.run(APP, ssl_certfile=cert, ssl_keyfile=key,
                    ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS",
                    ssl_version=ssl.PROTOCOL_TLS_SERVER,
                    **_uvicorn_options(opts["host"], opts["port"], opts["workers"]))
