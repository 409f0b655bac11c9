"""PartiQL error texts, as DynamoDB words them (the types live in wireapi.errors)."""
from __future__ import annotations

from wireapi.errors import ValidationException

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
UNEXPECTED_TERM = "Unexpected term"
UNEXPECTED_KEYWORD = "Unexpected keyword"
UNEXPECTED_OPERATOR = "Unexpected operator"
LEFTOVER = "Unexpected token after expression"
MISSING_RHS = "Missing right-hand side expression of infix operator"
EXPECTED_PATH = "Expected identifier for simple path"
EXPECTED_DML = "Expected data manipulation"
ALIASING = "Aliasing is not supported"
MANDATORY_KEY = "Where clause does not contain a mandatory equality on all key attributes"
PARAMETER_COUNT = "Number of parameters in request and statement don't match."
BATCH_MIXED = "Read and write requests together in the same batch is not supported."
BATCH_DUPLICATES = "Provided list of item keys contains duplicates"
TRANSACTION_MIXED = "ExecuteTransaction API does not support both read and write operations in the same request."
TRANSACTION_DUPLICATES = "Transaction request cannot include multiple operations on one item"


def not_well_formed(detail: str) -> ValidationException:
    return ValidationException(NOT_WELL_FORMED + detail)


def unsupported(what: str) -> ValidationException:
    return ValidationException(f"Unsupported operation: {what}")
