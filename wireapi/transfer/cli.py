"""What `manage.py importtable` and `manage.py exporttable` share: the request
is validated and started exactly as the API's (the same shape validation, the
same handler, the same job row), then followed to its end.

Following a job: this process claims waiting jobs as a server's runner does
(atomically, so each job runs once) and runs them in the foreground; when a
server's runner got there first, it watches that one. Either way the bar is
fed by the progress the runner saves in the job (every PROGRESS_SECONDS).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError

from storage.backends.base import JobRecord
from storage.management.progress import add_progress_option, progress_bar

from .. import errors, shapes
from ..dispatch import Request, handler_for
from ..runtime import Runtime, get_runtime, shutdown
from . import jobs, runner

WATCH_SECONDS = 0.5
_DONE = ("COMPLETED", "FAILED")


def add_job_options(parser: argparse.ArgumentParser, job: str) -> None:
    """The options both commands end with: --client-token, --no-wait, --progress."""
    parser.add_argument("--client-token", help="idempotency token (default: a new one each run)")
    parser.add_argument("--no-wait", action="store_true",
                        help=f"start the {job} and exit; a running server's job runner carries it out")
    add_progress_option(parser)


def read_request(path: str | None) -> dict[str, Any]:
    """The request body from a JSON file ('-': stdin), or an empty one to fill from options."""
    if path is None:
        return {}
    try:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read the request from {path}: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a JSON object (the request body)")
    return data


def key_attribute(text: str) -> tuple[str, str]:
    """argparse type of --partition-key/--sort-key: NAME:TYPE."""
    name, sep, kind = text.rpartition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME:TYPE (TYPE one of S, N, B), not {text!r}")
    return name, kind


def run(coroutine_function: Callable[[Runtime], Any]) -> Any:
    """Run `coroutine_function(runtime)` on a fresh event loop, closing the backend after."""
    async def main() -> Any:
        try:
            return await coroutine_function(get_runtime())
        finally:
            await shutdown()

    return asyncio.run(main())


async def submit(runtime: Runtime, operation: str, data: dict[str, Any]) -> dict[str, Any]:
    """Call the API's handler for `operation`, after the API's own validation."""
    try:
        shapes.validate_request("dynamodb", operation, data)
        request = Request(runtime, None, f"cli-{uuid.uuid4()}")  # type: ignore[arg-type] - the operator, no key
        return await handler_for("dynamodb", operation)(request, data)  # type: ignore[return-value]
    except errors.DynamoDBError as exc:
        raise CommandError(f"{exc.type_name.rpartition('#')[2]}: {exc.message}") from None


async def follow(runtime: Runtime, arn: str, kind: str, options: dict[str, Any], *, total: int | None,
                 count: Callable[[dict[str, Any]], int | None], desc: str) -> JobRecord:
    """Run or watch the job `arn` until it is COMPLETED or FAILED; a bar counts `count(description)`."""
    backend = runtime.backend
    with progress_bar(options, total=total, unit="item", desc=desc) as bar:
        async def watch() -> None:
            while True:
                job = await backend.load_job(arn)
                done = count(job.description) if job else None
                if done is not None and done > bar.n:
                    bar.update(done - bar.n)
                await asyncio.sleep(WATCH_SECONDS)

        watcher = asyncio.create_task(watch())
        try:
            while True:
                job = await backend.load_job(arn)
                if job is None:
                    raise CommandError(f"{arn} is gone")
                if job.status in _DONE:
                    final = count(job.description)
                    if final is not None:  # the table may have changed since the total was read
                        if bar.total is not None:
                            bar.total = final
                        bar.update(final - bar.n)
                    return job
                moment = time.time()
                claimed = await backend.claim_job(kind, moment, moment - runner.STALE_SECONDS)
                if claimed is None:  # a server's runner has it: watch
                    await asyncio.sleep(WATCH_SECONDS)
                else:  # ours, or an older one nobody was running: run it here
                    await runner.run_one(runtime, claimed)
        finally:
            watcher.cancel()


def report(command: Any, job: JobRecord, fields: tuple[str, ...]) -> None:
    """Print the outcome as KEY=value lines (scripts read them); a failure is exit status 1."""
    public = jobs.public(job.description)
    status_key = "ExportStatus" if job.kind == jobs.EXPORT else "ImportStatus"
    for name in (status_key, *fields):
        if name in public:
            command.stdout.write(f"{name}={public[name]}")
    if public.get(status_key) != "COMPLETED":
        raise CommandError(f"{public.get('FailureCode')}: {public.get('FailureMessage')}")
