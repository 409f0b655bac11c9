"""The table browser's way into the data: the wire protocol's own operation handlers.

Requests are built as the DynamoDB endpoint builds them (shape validation,
then the handler) so validation, index and stream maintenance are identical;
only SigV4 and policy checks are skipped, the caller being a signed-in staff
user. Each call is noted in the access log under "admin:<username>".
"""
from __future__ import annotations

import logging
from typing import Any

import orjson
from django.http import HttpRequest

from wireapi import audit, errors, shapes
from wireapi.app import request_id
from wireapi.credentials import Credential
from wireapi.dispatch import Request, handler_for
from wireapi.runtime import get_runtime

log = logging.getLogger("extenddb.admin")

ADMIN_KEY_ID = "web-admin"

DynamoDBError = errors.DynamoDBError


async def call(request: HttpRequest, operation: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run one DynamoDB operation as the signed-in admin; raises DynamoDBError as the endpoint would."""
    user = await request.auser()
    principal = f"admin:{user.get_username()}"
    credential = Credential(ADMIN_KEY_ID, "", principal, True)
    rid = request_id()
    scope = getattr(request, "scope", None) or {}
    outcome = "OK"
    try:
        # A round trip through JSON, as on the wire: the handlers expect parsed JSON only.
        data = orjson.loads(orjson.dumps(data))
        shapes.validate_request("dynamodb", operation, data)
        handler = handler_for("dynamodb", operation)
        result = await handler(Request(get_runtime(), credential, rid, scope), data)
    except DynamoDBError as exc:
        outcome = exc.type_name.rpartition("#")[2]
        raise
    except Exception as exc:  # a bug, not bad input: logged, and shown as DynamoDB would
        log.exception("internal error in admin request %s", rid)
        outcome = "InternalServerError"
        raise errors.InternalServerError() from exc
    finally:
        table = data.get("TableName") if isinstance(data, dict) else None
        audit.record(scope, rid, principal, ADMIN_KEY_ID, operation,
                     table if isinstance(table, str) else None, outcome)
    return orjson.loads(result) if isinstance(result, bytes) else result


def message_of(exc: DynamoDBError) -> str:
    """How an error reads to the admin: DynamoDB's type and message."""
    kind = exc.type_name.rpartition("#")[2]
    return f"{kind}: {exc.message}" if exc.message else kind
