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
    # DynamoDB's answer to an unknown, deleted or inactive access key; ExtendDB gives an
    # expired key (accounts.AccessKey.expires_at) the same answer, as AWS gives expired credentials.
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


class InvalidKey(ValidationException):
    """A key that does not fit the table's key schema (missing, mistyped, empty,
    too long). A transaction reports it as the ValidationError cancellation
    reason of its action ("There is a user error, such as an invalid data
    format", DynamoDB's TransactionCanceledException documentation) rather than
    as a ValidationException of the whole request."""


# Size and depth limits, checked before the work they bound (docs: "Service,
# account, and table quotas in Amazon DynamoDB").
MAX_NESTING_LEVELS = 32  # of maps and lists in an attribute value, and of a document path
NESTING_TOO_DEEP = ("Nesting Levels have exceeded supported limits: "
                    "Attributes in the item have nested levels beyond supported limit")
MAX_EXPRESSION_BYTES = 4096
MAX_PLACEHOLDER_BYTES = 255  # of an ExpressionAttributeNames / ExpressionAttributeValues key
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024  # names and values of one request together
MAX_ATTRIBUTE_NAME_BYTES = 65535
# Ours (DynamoDB's text is unpublished): an attribute name over 64 KB.
ATTRIBUTE_NAME_TOO_LONG = ("One or more parameter values were invalid: "
                           "An attribute name is too long; it may be at most 65535 bytes")
# Ours (DynamoDB's text is unpublished): all substitution variables over 2 MB.
SUBSTITUTIONS_TOO_LARGE = ("ExpressionAttributeNames and ExpressionAttributeValues have exceeded the maximum "
                           "allowed size of 2 MB")
# Ours: parenthesis, NOT or function nesting no real expression reaches (DynamoDB's
# operator limit of 300 refuses such text too, after parsing it).
EXPRESSION_TOO_DEEP = "The expression is nested too deeply;"


def expression_too_large(kind: str, size: int) -> ValidationException:
    return invalid_expression(kind, f"Expression size has exceeded the maximum allowed size; expression size: {size}")


def placeholder_too_long(param: str, size: int) -> ValidationException:
    """Names as observed on DynamoDB Local; for values the size is not quoted (as others observed)."""
    detail = "The expression attribute map contains a key that is too long;"
    if param == "ExpressionAttributeNames":
        detail += f" size of key: {size}"
    return ValidationException(f"{param} contains invalid key: {detail}")


def path_too_deep(kind: str, levels: int) -> ValidationException:
    return invalid_expression(kind, f"The document path has too many nesting levels; nesting levels: {levels}")


def invalid_expression(kind: str, detail: str) -> ValidationException:
    """`kind` is e.g. 'ConditionExpression', 'UpdateExpression', 'ProjectionExpression'."""
    return ValidationException(f"Invalid {kind}: {detail}")


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


class DuplicateItem(DynamoDBError):
    """PartiQL INSERT of an item whose key exists."""
    type_name = _DDB + "DuplicateItemException"
    default_message = "Duplicate primary key exists in table"


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


class UndecodableBody(DynamoDBError):
    """A Content-Encoding other than gzip/deflate/identity, or a body that does not
    decompress as its header says: DynamoDB answers HTTP 500 (measured by ScyllaDB's
    Alternator tests against DynamoDB); the body of that answer is unpublished, so
    this is InternalServerError's. Deliberate: nothing was done, nothing is logged
    as a fault."""
    type_name = _DDB + "InternalServerError"
    status = 500
    default_message = "Internal server error"


class ServiceUnavailable(DynamoDBError):
    type_name = _CORAL + "ServiceUnavailableException"
    status = 503
    default_message = "Service unavailable"


# --- tags, backups, continuous backups ----------------------------------------

class TableNotFound(DynamoDBError):
    """CreateBackup and the continuous-backup calls name a missing table with this type."""

    type_name = _DDB + "TableNotFoundException"


class TableAlreadyExists(DynamoDBError):
    type_name = _DDB + "TableAlreadyExistsException"


class TableInUse(DynamoDBError):
    type_name = _DDB + "TableInUseException"


class BackupNotFound(DynamoDBError):
    type_name = _DDB + "BackupNotFoundException"


class BackupInUse(DynamoDBError):
    type_name = _DDB + "BackupInUseException"


class ContinuousBackupsUnavailable(DynamoDBError):
    type_name = _DDB + "ContinuousBackupsUnavailableException"


class InvalidRestoreTime(DynamoDBError):
    """The text is the exception's documentation in the service model; DynamoDB's own
    message is not published. (RestoreTableToPointInTime names a missing source with
    TableNotFoundException: botocore's model has no SourceTableNotFoundException.)"""

    type_name = _DDB + "InvalidRestoreTimeException"
    default_message = ("RestoreDateTime must be between EarliestRestorableDateTime and "
                       "LatestRestorableDateTime.")


# --- DynamoDB Streams -----------------------------------------------------------

class ExpiredIterator(DynamoDBError):
    type_name = _DDB + "ExpiredIteratorException"


class TrimmedDataAccess(DynamoDBError):
    type_name = _DDB + "TrimmedDataAccessException"


def shard_filter_incomplete(members: list[str]) -> ValidationException:
    """DescribeStream's ShardFilter needs both Type and ShardId (a filter on child
    shards of one shard). DynamoDB's text is unpublished: ours, in Coral's form."""
    return coral_null(members)


def stream_not_found(arn: str) -> ResourceNotFound:
    return ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")


# --- message texts used from more than one place ----------------------------

def table_not_found(name: str) -> ResourceNotFound:
    """DescribeTable/DeleteTable/UpdateTable name the table; item calls do not."""
    return ResourceNotFound(f"Requested resource not found: Table: {name} not found")


def table_in_use(name: str) -> ResourceInUse:
    return ResourceInUse(f"Table already exists: {name}")


# --- capacity (wireapi.throttle) ----------------------------------------------------
# DynamoDB's texts for provisioned tables and GSIs (the CancellationReason list of
# TransactWriteItems' API reference publishes them). For on-demand maximums
# DynamoDB documents only the ThrottlingReasons reason (…MaxOnDemandThroughputExceeded);
# THROUGHPUT_ON_DEMAND_MAX is ours.
THROUGHPUT_TABLE = ("The level of configured provisioned throughput for the table was exceeded. "
                    "Consider increasing your provisioning level with the UpdateTable API.")
THROUGHPUT_GSI = ("The level of configured provisioned throughput for one or more global secondary indexes "
                  "of the table was exceeded. Consider increasing your provisioning level for the "
                  "under-provisioned global secondary indexes with the UpdateTable API")
THROUGHPUT_ON_DEMAND_MAX = "Throughput exceeds the maximum OnDemandThroughput configured on table or index"


def throughput_exceeded(provisioned: bool, index: bool, write: bool, resource: str) -> DynamoDBError:
    """A request refused for capacity, with its ThrottlingReasons (e.g.
    TableWriteProvisionedThroughputExceeded, IndexReadMaxOnDemandThroughputExceeded)."""
    kind = "ProvisionedThroughputExceeded" if provisioned else "MaxOnDemandThroughputExceeded"
    reason = f"{'Index' if index else 'Table'}{'Write' if write else 'Read'}{kind}"
    reasons = [{"reason": reason, "resource": resource}]
    if not provisioned:  # botocore's model spells this member in lower camel case here
        return Throttling(THROUGHPUT_ON_DEMAND_MAX, throttlingReasons=reasons)
    return ProvisionedThroughputExceeded(THROUGHPUT_GSI if index else THROUGHPUT_TABLE, ThrottlingReasons=reasons)


def key_schema_mismatch() -> InvalidKey:
    return InvalidKey("The provided key element does not match the schema")


def validation_errors(errors: list[str]) -> ValidationException:
    """Shape checks (types, lengths, enums) are reported together, as Coral does."""
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return ValidationException(f"{count} validation {noun} detected: " + "; ".join(errors))


def serialization_error(msg: str) -> SerializationException:
    """Coral's deserialiser errors spell the body key "Message" (capital M)."""
    err = SerializationException(None, Message=msg)
    err.args = (msg,)
    return err


# --- import and export (wireapi.operations.exports / imports) -------------------

class PointInTimeRecoveryUnavailable(DynamoDBError):
    type_name = _DDB + "PointInTimeRecoveryUnavailableException"


class InvalidExportTime(DynamoDBError):
    type_name = _DDB + "InvalidExportTimeException"
    default_message = "Export Time is invalid"


class ExportConflict(DynamoDBError):
    type_name = _DDB + "ExportConflictException"
    default_message = "Duplicate request detected with conflicting parameters"


class ExportNotFound(DynamoDBError):
    type_name = _DDB + "ExportNotFoundException"


class ImportConflict(DynamoDBError):
    type_name = _DDB + "ImportConflictException"
    default_message = "Duplicate request detected with conflicting parameters"


class ImportNotFound(DynamoDBError):
    type_name = _DDB + "ImportNotFoundException"


def pitr_not_enabled(table_name: str) -> PointInTimeRecoveryUnavailable:
    return PointInTimeRecoveryUnavailable(f"Point in time recovery is not enabled for table '{table_name}'")


def s3_location_refused(member: str, value: str) -> ValidationException:
    """Not DynamoDB's (S3 accepts such keys): a prefix that would leave the operator's S3 root."""
    return ValidationException(
        f"Invalid {member}: {value!r}. The S3 root on this server refuses '..' segments, "
        "a leading '/' and NUL characters")


# Texts of import/export errors. "Invalid Export ARN" / "Invalid Import ARN" and
# "Export Time is invalid" are DynamoDB's as measured; the others are not confirmed.
INVALID_EXPORT_ARN = "Invalid Export ARN"
INVALID_IMPORT_ARN = "Invalid Import ARN"


def export_table_not_found(table_arn: str) -> TableNotFound:
    return TableNotFound(f"Table not found: {table_arn}")


def invalid_table_arn(table_arn: str) -> ValidationException:
    return ValidationException(f"Invalid TableArn: {table_arn}")


def export_not_found(arn: str) -> ExportNotFound:
    return ExportNotFound(f"Export not found: {arn}")


def import_not_found(arn: str) -> ImportNotFound:
    return ImportNotFound(f"Import not found: {arn}")


def unsupported_export_option(what: str) -> ValidationException:
    return ValidationException(f"{what} is not supported by this server")


def csv_options_without_csv(input_format: str) -> ValidationException:
    return ValidationException(f"InputFormatOptions is only valid for the CSV InputFormat, not {input_format}")


def invalid_next_token(operation: str, token: str) -> ValidationException:
    return ValidationException(f"Invalid NextToken for {operation}: {token}")


# --- PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction) ----
# Positions in messages are DynamoDB's "line:column:length" of a token.

PARTIQL_NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
# Details after PARTIQL_NOT_WELL_FORMED (syntax errors).
PARTIQL_UNEXPECTED_TERM = "Unexpected term"
PARTIQL_UNEXPECTED_KEYWORD = "Unexpected keyword"
PARTIQL_UNEXPECTED_OPERATOR = "Unexpected operator"
PARTIQL_LEFTOVER = "Unexpected token after expression"
PARTIQL_MISSING_RHS = "Missing right-hand side expression of infix operator"
PARTIQL_EXPECTED_PATH = "Expected identifier for simple path"
PARTIQL_EXPECTED_DML = "Expected data manipulation"
PARTIQL_EXPECTED_TYPE = "Expected type name"
# Whole messages.
PARTIQL_ALIASING = "Aliasing is not supported"
PARTIQL_MANDATORY_KEY = "Where clause does not contain a mandatory equality on all key attributes"
PARTIQL_PARAMETER_COUNT = "Number of parameters in request and statement don't match."
PARTIQL_UNCONVERTIBLE = "The parameter cannot be converted to a numeric value"
PARTIQL_EMPTY_SET = "Empty bags are not supported"
PARTIQL_INSERT_VALUES = ('Unsupported operation: Inserting multiple items in a single statement is not supported, '
                         'use "INSERT INTO tableName VALUE item" instead')
PARTIQL_BATCH_MIXED = "Read and write requests together in the same batch is not supported."
PARTIQL_BATCH_DUPLICATES = "Provided list of item keys contains duplicates"
PARTIQL_TRANSACTION_MIXED = ("ExecuteTransaction API does not support both read and write operations in the "
                             "same request.")
PARTIQL_TRANSACTION_DUPLICATES = "Transaction request cannot include multiple operations on one item"
PARTIQL_EXISTS_NEEDS_CONDITION = "EXISTS() must contain a single item read with additional condition"
PARTIQL_RETURNING_IN_TRANSACTION = "RETURNING clause is not supported in ExecuteTransaction."
# A read of a GSI with a multi-attribute key (the refusal follows the index, not the table).
PARTIQL_MULTI_ATTRIBUTE_INDEX = ("PartiQL statements cannot be executed on tables with multi-attribute HASH keys or "
                                 "multi-attribute RANGE keys.")
PARTIQL_ORDER_BY_NEEDS_HASH = ("Must have at least one non-optional hash key condition in WHERE clause when using "
                               "ORDER BY clause.")
# Texts of ours where DynamoDB's wording is not known.
PARTIQL_ORDER_BY_RANGE_ONLY = "ORDER BY is supported only on the sort key of the table or index"
PARTIQL_INVALID_NEXT_TOKEN = "The provided NextToken is invalid"


def partiql_not_well_formed(detail: str) -> ValidationException:
    return ValidationException(PARTIQL_NOT_WELL_FORMED + detail)


def partiql_unsupported(what: str) -> ValidationException:
    return ValidationException(f"Unsupported operation: {what}")


def partiql_in_statement(index: int, message: str | None) -> ValidationException:
    """ExecuteTransaction names the statement a validation error is about."""
    return ValidationException(f"Validation failed in TransactStatements[{index}]: {message}")


def partiql_select_needs_key(operation: str) -> ValidationException:
    return ValidationException(
        f"Select statements within {operation} must specify the primary key in the where clause.")


def partiql_unrecognized_function(name: str, at: str) -> ValidationException:
    return ValidationException(f"Unrecognized function: {name} at {at}")


def partiql_unsupported_data_type(name: str, where: str, at: str) -> ValidationException:
    return ValidationException(f"Unsupported data type: {name} under key {where} at {at}")


def partiql_unordered_operand(operator: str, kind: str) -> ValidationException:
    return ValidationException(
        f"Incorrect operand type for operator or function; operator or function: {operator}, operand type: {kind}")


def partiql_set_function(function: str, problem: str, at: str) -> ValidationException:
    """set_add / set_delete misuse; `problem` is "arity", "first" or "second"."""
    name = function.upper()
    text = {"arity": f"{name} must have exactly two arguments",
            "first": f"The first argument to {name} must equal the assignment value",
            "second": f"The second argument to {name} must be a value with type SET"}[problem]
    return ValidationException(f"{text} at {at}")


# --- legacy parameters (Expected, QueryFilter, ScanFilter) -------------------------

# DynamoDB's text is unpublished: this is the one AWS's DAX client gives.
CONDITIONAL_OPERATOR_ALONE = "ConditionalOperator cannot be used without Filter or Expected"


# --- cancellation reasons ------------------------------------------------------

# The short codes of CancellationReason and BatchStatementError.
_SHORT_CODES = {"ValidationException": "ValidationError", "ConditionalCheckFailedException": "ConditionalCheckFailed",
                "DuplicateItemException": "DuplicateItem", "ResourceNotFoundException": "ResourceNotFound",
                "TransactionConflictException": "TransactionConflict", "AccessDeniedException": "AccessDenied",
                "ItemCollectionSizeLimitExceededException": "ItemCollectionSizeLimitExceeded",
                "ProvisionedThroughputExceededException": "ProvisionedThroughputExceeded",
                "ThrottlingException": "ThrottlingError"}


def short_code(exc: DynamoDBError) -> str:
    return _SHORT_CODES.get(exc.type_name.rpartition("#")[2], "InternalServerError")


def transaction_canceled(failures: list[tuple[DynamoDBError, Any] | None]) -> TransactionCanceled:
    """TransactionCanceledException with one reason per action, in request order
    (None: that action was fine); the current item where the action asked for it."""
    reasons: list[dict[str, Any]] = []
    for failure in failures:
        if failure is None:
            reasons.append({"Code": "None"})
            continue
        exc = failure[0]
        reason: dict[str, Any] = {"Code": short_code(exc), "Message": exc.message}
        if "Item" in exc.extra:
            reason["Item"] = exc.extra["Item"]
        reasons.append(reason)
    codes = ", ".join(r["Code"] for r in reasons)
    return TransactionCanceled(
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        CancellationReasons=reasons)


# --- key schemas and index definitions (CreateTable, UpdateTable, Query) -------
# Multi-attribute GSI keys (November 2025): DynamoDB has not published the texts
# of its refusals, and botocore's model no longer bounds KeySchema's length.
# These follow DynamoDB's existing wording; each one not observed from DynamoDB
# is marked "ours". Those marked "DynamoDB's" were observed by others.

_INVALID_PARAMS = "One or more parameter values were invalid: "
MAX_KEY_PART_ATTRIBUTES = 4  # HASH, and RANGE, attributes of a GSI key


def coral_null(members: list[str]) -> ValidationException:
    """Coral's form for required members left out (KeySchema and
    AttributeDefinitions of CreateTable: required by DynamoDB, optional in
    today's botocore model)."""
    count = len(members)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(f"Value null at '{m}' failed to satisfy constraint: Member must not be null"
                        for m in members)
    return ValidationException(f"{count} validation {noun} detected: {details}")


def key_schema_too_long(rendered: str, path: str) -> str:
    """A base table's or LSI's KeySchema of more than two elements: DynamoDB's
    Coral text from before multi-attribute keys (the constraint has since left
    botocore's model; the service's current text is unpublished)."""
    return (f"1 validation error detected: Value '{rendered}' at '{path}' failed to satisfy constraint: "
            "Member must have length less than or equal to 2")


def key_element_not_range(ordinal: str) -> str:
    """DynamoDB's text for the second element; ours for a HASH after a RANGE
    further on in a multi-attribute GSI key."""
    return f"Invalid KeySchema: The {ordinal} KeySchemaElement is not a RANGE key type"


def too_many_key_attributes(index: str, key_type: str) -> str:  # ours
    part = "partition" if key_type == "HASH" else "sort"
    return (_INVALID_PARAMS + f"Too many {key_type} key attributes in the KeySchema of index: {index}. "
            f"A global secondary index {part} key can have at most {MAX_KEY_PART_ATTRIBUTES} attributes")


def duplicate_key_attribute(name: str) -> str:  # ours
    return _INVALID_PARAMS + f"Duplicate KeySchema attribute name: {name}"


# DynamoDB's (as observed by other emulators' authors).
INCLUDE_WITHOUT_NON_KEY_ATTRIBUTES = _INVALID_PARAMS + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified"


def duplicate_non_key_attribute(name: str) -> str:  # ours
    return _INVALID_PARAMS + f"Duplicate attribute name in NonKeyAttributes: {name}"


GSI_UPDATE_MORE_THAN_ONE_ACTION = (  # ours, after DynamoDB's "must not be null" text
    _INVALID_PARAMS + "Only one of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
    "GlobalSecondaryIndexUpdate.Delete can be specified")
# Query on a multi-attribute key: a HASH attribute without `=`, or a range test
# before the last RANGE attribute used, is DynamoDB's existing
# "Query key condition not supported"; a RANGE attribute skipped is
# "Query condition missed key schema element: <it>" (observed by moto's authors).
