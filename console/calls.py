"""The console's way into the data: the wire protocol's own handlers and authorisation.

Requests are built as the DynamoDB endpoint builds them (shape validation,
authorisation by wireapi.authz, then the handler) so validation, the checks
each operation makes, index and stream maintenance are identical; only SigV4
is replaced by the signed-in administrator's session, whose rights are their
Django permissions as a policy (console.grants). Each call is noted in the
access log under "admin:<username>".
"""
from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from accounts.policy import PolicySet
from wireapi import audit, errors, shapes
from wireapi.app import request_id, run_operation
from wireapi.credentials import Credential
from wireapi.dispatch import Request, handlers
from wireapi.runtime import get_runtime

from .grants import policies_of

log = logging.getLogger("extenddb.console")

CONSOLE_KEY_ID = "console"

DynamoDBError = errors.DynamoDBError


@dataclass(frozen=True)
class Caller:
    """Who runs the operations: an administrator, from a page or a websocket."""

    username: str
    policies: PolicySet
    scope: dict[str, Any]

    @property
    def principal(self) -> str:
        return f"admin:{self.username}"


async def caller_for(user, scope: dict[str, Any] | None) -> Caller:
    return Caller(user.get_username(), await policies_of(user), scope or {})


async def caller_of(request) -> Caller:
    """The caller behind a Django request (cached on it for the pages that call many times)."""
    cached = getattr(request, "_console_caller", None)
    if cached is None:
        cached = await caller_for(await request.auser(), getattr(request, "scope", None))
        request._console_caller = cached
    return cached


@cache
def _token_members(service: str, operation: str) -> tuple[str, ...]:
    """Members the SDKs fill with a fresh token when left out (ClientToken of ImportTable…)."""
    import botocore.session

    try:
        shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    except Exception:  # an operation botocore does not know: the handler refuses it
        return ()
    if shape is None:
        return ()
    return tuple(name for name, member in shape.members.items() if member.metadata.get("idempotencyToken"))


def supports(operation: str, service: str = "dynamodb") -> bool:
    """Whether this server has the operation (pages offer what the API offers)."""
    return (service, operation) in handlers()


async def call(request, operation: str, data: dict[str, Any], service: str = "dynamodb") -> dict[str, Any]:
    """Run one operation as the signed-in administrator; raises DynamoDBError as the endpoint would.

    `request` is a Django request or a Caller."""
    caller = request if isinstance(request, Caller) else await caller_of(request)
    credential = Credential(CONSOLE_KEY_ID, "", caller.principal, True, caller.policies)
    rid = request_id()
    outcome, served_by, message, started = "OK", None, None, time.perf_counter()
    try:
        # A round trip through JSON, as on the wire: the handlers expect parsed JSON only.
        body = orjson.dumps(data)
        data = orjson.loads(body)
        for member in _token_members(service, operation):
            data.setdefault(member, str(uuid.uuid4()))  # as an SDK does
        body = orjson.dumps(data)
        shapes.validate_request(service, operation, data)
        req = Request(get_runtime(), credential, rid, caller.scope)
        result = await run_operation(req, service, operation, data, body)
        if req.reads is not None:
            served_by = req.reads.source
    except DynamoDBError as exc:
        outcome, message = exc.type_name.rpartition("#")[2], exc.message
        raise
    except Exception as exc:  # a bug, not bad input: logged, and shown as DynamoDB would
        log.exception("internal error in console request %s", rid)
        outcome = "InternalServerError"
        raise errors.InternalServerError() from exc
    finally:
        table = data.get("TableName") if isinstance(data, dict) else None
        audit.record(caller.scope, rid, caller.principal, CONSOLE_KEY_ID, operation,
                     table if isinstance(table, str) else None, outcome, served_by, message,
                     round((time.perf_counter() - started) * 1000, 3))
    if isinstance(result, bytes):
        return orjson.loads(result) if result else {}  # TagResource's empty body
    return result


def message_of(exc: DynamoDBError) -> str:
    """How an error reads to the administrator: DynamoDB's type and message."""
    kind = exc.type_name.rpartition("#")[2]
    return f"{kind}: {exc.message}" if exc.message else kind


def kind_of(exc: DynamoDBError) -> str:
    return exc.type_name.rpartition("#")[2]
