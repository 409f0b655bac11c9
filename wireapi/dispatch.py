"""Operation name -> handler coroutine."""
from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from storage.backends import Reader

from . import errors
from .credentials import Credential
from .runtime import Runtime

# A request whose write met a newer table definition (StaleSchema: nothing was
# written) is redone this many times; each redo reloads the definition first.
STALE_RETRIES = 4

SERVICES = {"DynamoDB_20120810": "dynamodb", "DynamoDBStreams_20120810": "dynamodbstreams"}

# Modules under wireapi.operations. Each has HANDLERS (DynamoDB operations) and
# may have STREAMS_HANDLERS (DynamoDB Streams operations). One module a line.
OPERATION_MODULES = (
    "tables",
    "items",
    "query",
    "batch",
    "transact",
    "streams",
    "ttl",
    "partiql",
    "tags",
    "backups",
    "service",
    "exports",
    "imports",
    "bulk",
)


@dataclass
class Request:
    runtime: Runtime
    credential: Credential
    request_id: str
    scope: dict[str, Any] | None = None  # the ASGI scope (client address, scheme)
    reads: Reader | None = None  # where its reads went: the access log says which database answered

    def reader(self, consistent: bool) -> Reader:
        """Where this request's reads go (a replica for eventually consistent ones, when
        configured); remembered for the access log."""
        self.reads = reader = self.runtime.backend.reader(consistent)
        return reader


Handler = Callable[[Request, dict[str, Any]], Awaitable[dict[str, Any] | bytes]]


def _registry() -> dict[tuple[str, str], Handler]:
    handlers: dict[tuple[str, str], Handler] = {}
    for name in OPERATION_MODULES:
        module = importlib.import_module(f"wireapi.operations.{name}")
        for operation, handler in getattr(module, "HANDLERS", {}).items():
            handlers[("dynamodb", operation)] = handler
        for operation, handler in getattr(module, "STREAMS_HANDLERS", {}).items():
            handlers[("dynamodbstreams", operation)] = handler
    return handlers


_HANDLERS: dict[tuple[str, str], Handler] | None = None


def handlers() -> dict[tuple[str, str], Handler]:
    """Every (service, operation) handler; the first call imports the operation modules."""
    global _HANDLERS
    if _HANDLERS is None:
        _HANDLERS = _registry()
    return _HANDLERS


def handler_for(service: str, operation: str) -> Handler:
    handler = handlers().get((service, operation))
    if handler is None:
        raise errors.UnknownOperationException(
            f"The operation {operation} is not supported by this server"
        )
    return handler
