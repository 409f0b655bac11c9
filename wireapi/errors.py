"""Every DynamoDB error type and message text, in one place.

Applications parse these (`__type` and sometimes `message`), so fidelity fixes
belong here and nowhere else. An exception carries its HTTP status and renders
itself as DynamoDB's JSON error body.
"""
from __future__ import annotations

from typing import Any

_DDB = "com.amazonaws.dynamodb.v20120810#"
_CORAL = "com.amazon.coral.service#"
_VALIDATE = "com.amazon.coral.validate#"


class DynamoDBError(Exception):
    """Base of every error the wire protocol returns."""

    type_name: str = _DDB + "InternalServerError"
    status: int = 400
    default_message: str | None = None

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message if message is not None else self.default_message
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"__type": self.type_name}
        if self.message is not None:
            out["message"] = self.message
        out.update(self.extra)
        return out


# --- protocol and authentication -------------------------------------------

class SerializationException(DynamoDBError):
    type_name = _CORAL + "SerializationException"


class UnknownOperationException(DynamoDBError):
    type_name = _CORAL + "UnknownOperationException"


class MissingAuthenticationToken(DynamoDBError):
    type_name = _CORAL + "MissingAuthenticationTokenException"
    default_message = "Request is missing Authentication Token"


class IncompleteSignature(DynamoDBError):
    type_name = _CORAL + "IncompleteSignatureException"


class UnrecognizedClient(DynamoDBError):
    type_name = _CORAL + "UnrecognizedClientException"
    default_message = "The security token included in the request is invalid."


class InvalidSignature(DynamoDBError):
    type_name = _CORAL + "InvalidSignatureException"
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class AccessDenied(DynamoDBError):
    type_name = _CORAL + "AccessDeniedException"


class RequestTooLarge(DynamoDBError):
    type_name = _CORAL + "RequestEntityTooLarge"
    status = 413
    default_message = "Request Entity Too Large"


# --- validation --------------------------------------------------------------

class ValidationException(DynamoDBError):
    type_name = _VALIDATE + "ValidationException"


# --- resources and conditions -----------------------------------------------

class ResourceNotFound(DynamoDBError):
    type_name = _DDB + "ResourceNotFoundException"
    default_message = "Requested resource not found"


class ResourceInUse(DynamoDBError):
    type_name = _DDB + "ResourceInUseException"


class LimitExceeded(DynamoDBError):
    type_name = _DDB + "LimitExceededException"


class ConditionalCheckFailed(DynamoDBError):
    type_name = _DDB + "ConditionalCheckFailedException"
    default_message = "The conditional request failed"


class TransactionCanceled(DynamoDBError):
    type_name = _DDB + "TransactionCanceledException"


class TransactionConflict(DynamoDBError):
    type_name = _DDB + "TransactionConflictException"


class TransactionInProgress(DynamoDBError):
    type_name = _DDB + "TransactionInProgressException"


class IdempotentParameterMismatch(DynamoDBError):
    type_name = _DDB + "IdempotentParameterMismatchException"


class ItemCollectionSizeLimitExceeded(DynamoDBError):
    type_name = _DDB + "ItemCollectionSizeLimitExceededException"


class ProvisionedThroughputExceeded(DynamoDBError):
    type_name = _DDB + "ProvisionedThroughputExceededException"


class Throttling(DynamoDBError):
    type_name = "com.amazon.coral.availability#ThrottlingException"


class InternalServerError(DynamoDBError):
    type_name = _DDB + "InternalServerError"
    status = 500
    default_message = "Internal server error"


class ServiceUnavailable(DynamoDBError):
    type_name = _CORAL + "ServiceUnavailableException"
    status = 503
    default_message = "Service unavailable"


# --- message texts used from more than one place ----------------------------

def table_not_found(name: str) -> ResourceNotFound:
    """DescribeTable/DeleteTable/UpdateTable name the table; item calls do not."""
    return ResourceNotFound(f"Requested resource not found: Table: {name} not found")


def table_in_use(name: str) -> ResourceInUse:
    return ResourceInUse(f"Table already exists: {name}")


def key_schema_mismatch() -> ValidationException:
    return ValidationException("The provided key element does not match the schema")


def validation_errors(errors: list[str]) -> ValidationException:
    """Shape checks (types, lengths, enums) are reported together, as Coral does."""
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return ValidationException(f"{count} validation {noun} detected: " + "; ".join(errors))


def invalid_expression(kind: str, detail: str) -> ValidationException:
    """`kind` is e.g. 'ConditionExpression', 'UpdateExpression', 'ProjectionExpression'."""
    return ValidationException(f"Invalid {kind}: {detail}")


def serialization_error(msg: str) -> SerializationException:
    """Coral's deserialiser errors spell the body key "Message" (capital M)."""
    err = SerializationException(None, Message=msg)
    err.args = (msg,)
    return err
