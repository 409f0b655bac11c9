#!/usr/bin/env python3
"""Write docs/compatibility.md: every DynamoDB and DynamoDB Streams operation and
every request parameter from botocore's service model, with its status here.

Statuses live in this file, next to nothing else, so that the table is updated
in the same change as the code: edit OPERATIONS / PARAMETERS, then run
`.venv/bin/python tools/compatibility.py`.
"""
from __future__ import annotations

from pathlib import Path

from botocore.loaders import Loader

SUPPORTED, PARTIAL, NO = "yes", "partial", "no"

# operation -> (status, note). Operations not listed are "no".
OPERATIONS: dict[str, tuple[str, str]] = {
    "CreateTable": (SUPPORTED, "Tables are ACTIVE at once. GSIs/LSIs are stored and described."),
    "DescribeTable": (SUPPORTED, "ItemCount and TableSizeBytes are exact (DynamoDB updates them every ~6 h)."),
    "ListTables": (SUPPORTED, ""),
    "UpdateTable": (PARTIAL, "Billing mode, throughput, deletion protection, stream specification, table class and GSI create/delete "
                    "are applied; replicas and SSE are not."),
    "DeleteTable": (SUPPORTED, "Honours DeletionProtectionEnabled; items are deleted in the same transaction. "
                    "The TableDescription has DynamoDB's reduced shape (no key schema, attribute definitions, "
                    "indexes or stream)."),
    "PutItem": (SUPPORTED, ""),
    "GetItem": (SUPPORTED, ""),
    "UpdateItem": (SUPPORTED, "An update of only REMOVE/DELETE actions on a missing item creates nothing, as in "
                   "DynamoDB."),
    "DeleteItem": (SUPPORTED, ""),
    "Query": (SUPPORTED, "Tables, LSIs and GSIs; 1 MB pages; legacy KeyConditions/QueryFilter."),
    "Scan": (SUPPORTED, "Parallel scan segments split a 16-bit hash of the partition key; legacy ScanFilter."),
    "BatchGetItem": (SUPPORTED, "One statement per table; 16 MB response limit with UnprocessedKeys."),
    "BatchWriteItem": (SUPPORTED, "Validated as a whole, then written in one transaction; UnprocessedItems is "
                       "always empty."),
    "TransactWriteItems": (SUPPORTED, "One database transaction, rows locked in key order; ClientRequestToken "
                           "kept 10 minutes. A key that does not fit the table's schema cancels with a "
                           "ValidationError reason at its position."),
    "TransactGetItems": (SUPPORTED, "A read-only snapshot (REPEATABLE READ on PostgreSQL). A key that does not fit "
                         "the table's schema cancels with a ValidationError reason at its position."),
    "UpdateTimeToLive": (SUPPORTED, "Takes effect at once (no ENABLING/DISABLING phase, no one-change-an-hour "
                         "limit). A background sweeper deletes expired items every EXTENDDB_TTL_SWEEP_SECONDS "
                         "(30 s), through the normal write path: index entries and a stream REMOVE record "
                         "with the DynamoDB service identity."),
    "DescribeTimeToLive": (SUPPORTED, ""),
    # DynamoDB Streams
    "ListStreams": (SUPPORTED, "Lists enabled streams and those disabled in the last 24 hours."),
    "DescribeStream": (SUPPORTED, "One shard per stream, never split or rotated."),
    "GetShardIterator": (SUPPORTED, "All five iterator types. Iterators are signed and expire after 15 minutes."),
    "GetRecords": (SUPPORTED, "Records are written in the transaction of the change, numbered in commit "
                   "order; kept 24 hours. Up to 1000 records or 1 MB per call."),
    # Import and export: S3 is a folder on the server (EXTENDDB_S3_ROOT), see docs/operations.md
    "ExportTableToPointInTime": (SUPPORTED, "FULL_EXPORT (the table as of ExportTime, read from its point-in-time "
                                 "history) and INCREMENTAL_EXPORT (NEW_AND_OLD_IMAGES or NEW_IMAGE, one record per "
                                 "item changed in the window, DynamoDB's record layout) in DYNAMODB_JSON or ION, "
                                 "DynamoDB's file layout, written to a bucket folder under EXTENDDB_S3_ROOT by a "
                                 "background job. Requires point-in-time recovery."),
    "DescribeExport": (SUPPORTED, ""),
    "ListExports": (SUPPORTED, "Newest first."),
    "ImportTable": (SUPPORTED, "DYNAMODB_JSON, ION and CSV; GZIP, ZSTD or NONE; from a bucket folder under "
                    "EXTENDDB_S3_ROOT. Items go through the normal write path (indexes, streams). Bad lines are "
                    "counted and logged to `<bucket>/AWSDynamoDB/import-errors/<import id>.jsonl`; unlike DynamoDB, "
                    "a bad line does not end the reading of its object."),
    "DescribeImport": (SUPPORTED, "Counters advance while the import runs (DynamoDB reports them at the end)."),
    "ListImports": (SUPPORTED, "Newest first."),
    # PartiQL
    "ExecuteStatement": (SUPPORTED, "SELECT (projection of paths, FROM table or \"table\".\"index\", WHERE with "
                         "comparisons, BETWEEN, IN, AND/OR/NOT, IS [NOT] MISSING/NULL/a type name, begins_with, "
                         "contains, attribute_exists/not_exists, attribute_type, size; ORDER BY the sort key), "
                         "INSERT, UPDATE "
                         "(SET, REMOVE, arithmetic, list_append, if_not_exists, set_add, set_delete; RETURNING), "
                         "DELETE (RETURNING ALL OLD *). Equality or IN on the partition key reads as a Query, "
                         "anything else as a Scan; writes need the full key and run through the normal write path. "
                         "A nested path in the SELECT list answers under its last name (SELECT a.b gives b)."),
    "BatchExecuteStatement": (SUPPORTED, "Up to 25 statements, all reads (full-key SELECTs) or all writes; each "
                              "statement runs and reports its own error."),
    "ExecuteTransaction": (SUPPORTED, "Up to 100 statements: writes (and EXISTS checks) all or nothing in one "
                           "database transaction, or reads from one snapshot; ClientRequestToken kept 10 minutes."),
    # Tags, backups, service information
    "TagResource": (SUPPORTED, "Tables (a stream ARN tags its table); 50 tags, DynamoDB's key/value rules and "
                    "messages; all or nothing. Takes effect at once (DynamoDB applies tags asynchronously). "
                    "Empty response body, as DynamoDB's."),
    "UntagResource": (SUPPORTED, "Empty response body, as TagResource's."),
    "ListTagsOfResource": (SUPPORTED, "All of a table's tags (at most 50) fit in one page; NextToken is honoured."),
    "CreateBackup": (SUPPORTED, "A consistent copy of the items and description, made inside the database in "
                     "one transaction; AVAILABLE already in the response (DynamoDB answers CREATING and is "
                     "AVAILABLE moments later). Backups live in the same database."),
    "DescribeBackup": (SUPPORTED, ""),
    "ListBackups": (SUPPORTED, "USER backups and SYSTEM backups (taken when a table with PITR enabled is "
                    "deleted, kept 35 days); the AWS_BACKUP list is empty."),
    "DeleteBackup": (SUPPORTED, "BackupInUseException while a restore from it runs (PostgreSQL; on SQLite the "
                     "delete waits for the restore)."),
    "RestoreTableFromBackup": (SUPPORTED, "Items copied and index entries rebuilt in one transaction: the table "
                               "is ACTIVE and complete when the call returns, and keeps a RestoreSummary "
                               "(RestoreInProgress false; DynamoDB drops it once ACTIVE). Streams, TTL, PITR, tags, "
                               "deletion protection and table class are not restored, as in DynamoDB. One restore per "
                               "backup at a time (BackupInUseException on PostgreSQL; SQLite runs them one after "
                               "the other)."),
    "DescribeContinuousBackups": (SUPPORTED, "ContinuousBackupsStatus is always ENABLED (on-demand backups), as "
                                  "in DynamoDB. With PITR: EarliestRestorableDateTime (the enabling, or now minus "
                                  "RecoveryPeriodInDays) and LatestRestorableDateTime (the database's clock now: "
                                  "it holds every write acknowledged before the call; DynamoDB lags ~5 minutes)."),
    "UpdateContinuousBackups": (SUPPORTED, "Enabling starts item history with a copy of the table; disabling "
                                "deletes the history; RecoveryPeriodInDays 1-35 (default 35) can change while "
                                "enabled. Writes to a table with PITR record each item's new version in their own "
                                "transaction (docs/operations.md: cost and limits)."),
    "DescribeLimits": (SUPPORTED, "DynamoDB's default quotas (80,000 per account, 40,000 per table); throughput "
                       "is not throttled."),
    "DescribeEndpoints": (SUPPORTED, "The address the client used, cached 1440 minutes."),
    "RestoreTableToPointInTime": (SUPPORTED, "By SourceTableName or SourceTableArn, to RestoreDateTime or "
                                  "UseLatestRestorableTime, with the billing, throughput, GSI/LSI, SSE and on-demand "
                                  "overrides. The table is CREATING at once and built in the background from the "
                                  "history as of that instant (with its index entries), then ACTIVE; RestoreSummary "
                                  "shows it. A deleted table's window stays restorable for its recovery period. "
                                  "Stream, TTL, PITR settings and tags are not restored, as in DynamoDB."),
    "StartBulkPutItems": (SUPPORTED, "DYNAMODB_JSON or ION objects under a prefix of a bucket folder (GZIP, ZSTD, "
                          "NONE), written in the background through the normal write path; a DYNAMODB_JSON line "
                          "may carry its own ConditionExpression. MaxWriteRequestUnits caps the write rate; "
                          "ClientToken is kept 8 hours. ERROR and CONDITION_CHECK_FAILURE records go to "
                          "<prefix>/AWSDynamoDB/bulk-operations/<id>/ in the output bucket."),
    "DescribeBulkOperation": (SUPPORTED, "Counters advance while it runs."),
    "ListBulkOperations": (SUPPORTED, "Newest first."),
    "CancelBulkOperation": (SUPPORTED, "CANCELLING, then CANCELLED at the next batch; written items stay."),
}

# (operation, parameter) -> (status, note). Parameters of supported operations
# not listed are "yes"; of unsupported operations, "no".
PARAMETERS: dict[tuple[str, str], tuple[str, str]] = {
    ("ExecuteStatement", "NextToken"): (SUPPORTED, "Opaque; tied to the statement and its parameters."),
    ("CreateTable", "SSESpecification"): (PARTIAL, "Accepted; data at rest is protected by the operator's database."),
    ("CreateTable", "Tags"): (SUPPORTED, "Validated before the table is created (a bad tag creates nothing)."),
    ("RestoreTableFromBackup", "SSESpecificationOverride"): (PARTIAL, "Accepted; data at rest is protected by the "
                                                             "operator's database."),
    ("RestoreTableFromBackup", "OnDemandThroughputOverride"): (PARTIAL, "Accepted, not enforced."),
    ("RestoreTableFromBackup", "VectorIndexOverride"): (NO, "Vector indexes are not offered."),
    ("RestoreTableFromBackup", "GlobalSecondaryIndexOverride"): (SUPPORTED, "Each must match a backup GSI by key "
                                                                 "schema and projection (renaming is allowed); [] "
                                                                 "restores none."),
    ("RestoreTableFromBackup", "LocalSecondaryIndexOverride"): (SUPPORTED, "As GlobalSecondaryIndexOverride."),
    ("CreateTable", "ResourcePolicy"): (NO, "Resource policies are not offered; use accounts policies."),
    ("CreateTable", "OnDemandThroughput"): (PARTIAL, "Accepted, not enforced."),
    ("CreateTable", "WarmThroughput"): (PARTIAL, "Accepted, not enforced."),
    ("CreateTable", "ProvisionedThroughput"): (PARTIAL, "Stored and reported; throughput is not throttled."),
    ("UpdateTable", "ReplicaUpdates"): (NO, "Global Tables are out of scope."),
    ("UpdateTable", "SSESpecification"): (NO, ""),
    ("UpdateTable", "MultiRegionConsistency"): (NO, "Global Tables are out of scope."),
    ("UpdateTable", "GlobalTableWitnessUpdates"): (NO, "Global Tables are out of scope."),
    ("UpdateTable", "OnDemandThroughput"): (PARTIAL, "Accepted, not enforced."),
    ("UpdateTable", "WarmThroughput"): (PARTIAL, "Accepted, not enforced."),
    ("PutItem", "ReturnItemCollectionMetrics"): (SUPPORTED, "On tables with local secondary indexes: ItemCollectionKey and SizeEstimateRangeGB (whole gigabytes either side of the measured size of the partition's items and LSI entries); none for tables without."),
    ("UpdateItem", "ReturnItemCollectionMetrics"): (SUPPORTED, "On tables with local secondary indexes: ItemCollectionKey and SizeEstimateRangeGB (whole gigabytes either side of the measured size of the partition's items and LSI entries); none for tables without."),
    ("DeleteItem", "ReturnItemCollectionMetrics"): (SUPPORTED, "On tables with local secondary indexes: ItemCollectionKey and SizeEstimateRangeGB (whole gigabytes either side of the measured size of the partition's items and LSI entries); none for tables without."),
    ("GetItem", "ConsistentRead"): (SUPPORTED, "Every read is strongly consistent; capacity is counted as asked."),
    ("Query", "ConsistentRead"): (SUPPORTED, "Every read is strongly consistent (indexes are written with their "
                                  "items); rejected on GSIs as DynamoDB does."),
    ("BatchWriteItem", "ReturnItemCollectionMetrics"): (SUPPORTED, "On tables with local secondary indexes: ItemCollectionKey and SizeEstimateRangeGB (whole gigabytes either side of the measured size of the partition's items and LSI entries); none for tables without."),
    ("TransactWriteItems", "ReturnItemCollectionMetrics"): (SUPPORTED, "On tables with local secondary indexes: ItemCollectionKey and SizeEstimateRangeGB (whole gigabytes either side of the measured size of the partition's items and LSI entries); none for tables without."),
    ("DescribeStream", "ShardFilter"): (SUPPORTED, "Type and ShardId are both required. The one shard never "
                                         "splits: CHILD_SHARDS finds none."),
    ("ExportTableToPointInTime", "S3BucketOwner"): (PARTIAL, "Accepted and ignored: buckets are folders."),
    ("ExportTableToPointInTime", "S3SseAlgorithm"): (PARTIAL, "Accepted and reported, not applied."),
    ("ExportTableToPointInTime", "S3SseKmsKeyId"): (PARTIAL, "Accepted and reported, not applied."),
    ("ExportTableToPointInTime", "ExportTime"): (SUPPORTED, "The table as of that instant, from its history."),
    ("ExportTableToPointInTime", "ExportType"): (SUPPORTED, ""),
    ("ExportTableToPointInTime", "IncrementalExportSpecification"): (SUPPORTED, "A window of 15 minutes "
        "(EXTENDDB_INCREMENTAL_EXPORT_MIN_SECONDS) to 24 hours inside the recovery window."),
    ("RestoreTableToPointInTime", "SSESpecificationOverride"): (PARTIAL, "Stored and described, not applied."),
    ("RestoreTableToPointInTime", "OnDemandThroughputOverride"): (PARTIAL, "Stored and described, not enforced."),
    ("RestoreTableToPointInTime", "VectorIndexOverride"): (NO, "Vector indexes are not offered."),
    ("StartBulkPutItems", "PerformanceTier"): (PARTIAL, "Accepted and reported; one speed."),
    ("StartBulkPutItems", "InputS3Configuration"): (SUPPORTED, "S3BucketOwner is accepted and ignored."),
    ("StartBulkPutItems", "OutputS3Configuration"): (PARTIAL, "S3BucketOwner, S3SseAlgorithm and S3SseKmsKeyId "
                                                     "are accepted and ignored."),
    ("ExportTableToPointInTime", "FilterSpecification"): (NO, "Refused with a ValidationException."),
    ("ImportTable", "S3BucketSource"): (SUPPORTED, "S3BucketOwner is accepted and ignored."),
    ("ImportTable", "TableCreationParameters"): (PARTIAL, "SSESpecification, OnDemandThroughput and VectorIndexes "
                                                 "are accepted and ignored."),
    # Multi-attribute GSI keys and the key-schema checks (merged from the docs).
    ("CreateTable", "KeySchema"): (SUPPORTED, 'One HASH and at most one RANGE attribute (a longer list is refused with DynamoDB\'s `length less than or equal to 2` text). Without KeySchema or AttributeDefinitions: Coral\'s "must not be null" (400).'),
    ("CreateTable", "LocalSecondaryIndexes"): (SUPPORTED, "One HASH (the table's) and one RANGE attribute."),
    ("CreateTable", "GlobalSecondaryIndexes"): (SUPPORTED, "Multi-attribute keys: up to 4 HASH then up to 4 RANGE attributes, each of its own type (S, N, B); an item lacking any of them is not in the index. INCLUDE needs distinct NonKeyAttributes. DynamoDB's texts for too many attributes, a HASH after a RANGE and duplicates are unpublished: see wireapi/errors.py."),
    ("ExecuteStatement", "Statement"): (SUPPORTED, 'A read of a GSI with a multi-attribute key is refused with DynamoDB\'s text ("PartiQL statements cannot be executed on tables with multi-attribute HASH keys or multi-attribute RANGE keys."); the table and its other indexes read as usual.'),
    ("Query", "KeyConditions"): (SUPPORTED, 'Same rules as KeyConditionExpression on multi-attribute keys.'),
    ("Query", "ExclusiveStartKey"): (SUPPORTED, 'On a multi-attribute GSI it carries the table key and every index key attribute, as LastEvaluatedKey does.'),
    ("Query", "FilterExpression"): (SUPPORTED, "May not name any key attribute of the queried index (all of a multi-attribute key's)."),
    ("Query", "KeyConditionExpression"): (SUPPORTED, 'Multi-attribute GSI keys: `=` on every HASH attribute, RANGE attributes from the first without a gap, a range test (<, <=, >, >=, BETWEEN, begins_with) only on the last one named; read as one index range scan. DynamoDB\'s "RANGE key attributes … must have equality conditions …" text for a gap.'),
    ("UpdateTable", "GlobalSecondaryIndexUpdates"): (SUPPORTED, "Create (multi-attribute keys included; its key attributes must be in the request's AttributeDefinitions) backfills in the background (IndexStatus CREATING, then ACTIVE): items violating the new key schema (type, empty value, over 2048/1024 bytes) are left out, as DynamoDB does, and counted by `manage.py checkconsistency`; writes during the backfill are indexed. Delete; Update of throughput. One action per update element."),
    # Issue 13 (fidelity).
    ("Scan", "Segment"): (SUPPORTED, 'Refused without TotalSegments (Segment 0 too), as DynamoDB.'),
    ("PutItem", "ReturnConsumedCapacity"): (SUPPORTED, "INDEXES reports each index written (GlobalSecondaryIndexes, LocalSecondaryIndexes) by DynamoDB's rules: an entry written or removed costs a write each, a changed index key both; TOTAL includes them."),
    ("UpdateItem", "ReturnConsumedCapacity"): (SUPPORTED, "INDEXES reports each index written (GlobalSecondaryIndexes, LocalSecondaryIndexes) by DynamoDB's rules: an entry written or removed costs a write each, a changed index key both; TOTAL includes them."),
    ("DeleteItem", "ReturnConsumedCapacity"): (SUPPORTED, "INDEXES reports each index written (GlobalSecondaryIndexes, LocalSecondaryIndexes) by DynamoDB's rules: an entry written or removed costs a write each, a changed index key both; TOTAL includes them."),
    ("BatchWriteItem", "ReturnConsumedCapacity"): (SUPPORTED, "INDEXES reports each index written (GlobalSecondaryIndexes, LocalSecondaryIndexes) by DynamoDB's rules: an entry written or removed costs a write each, a changed index key both; TOTAL includes them."),
    ("TransactWriteItems", "ReturnConsumedCapacity"): (SUPPORTED, "INDEXES reports each index written (GlobalSecondaryIndexes, LocalSecondaryIndexes) by DynamoDB's rules: an entry written or removed costs a write each, a changed index key both; TOTAL includes them."),
    ("PutItem", "ConditionalOperator"): (SUPPORTED, 'Refused without Expected.'),
    ("UpdateItem", "ConditionalOperator"): (SUPPORTED, 'Refused without Expected.'),
    ("DeleteItem", "ConditionalOperator"): (SUPPORTED, 'Refused without Expected.'),
    ("Query", "ConditionalOperator"): (SUPPORTED, 'Refused without QueryFilter.'),
    ("Scan", "ConditionalOperator"): (SUPPORTED, 'Refused without ScanFilter.'),
}

LABEL = {SUPPORTED: "✅ yes", PARTIAL: "🟡 partial", NO: "❌ no"}


def render() -> str:
    loader = Loader()
    lines = [
        "# Compatibility",
        "",
        "Every operation and request parameter of the DynamoDB API (and DynamoDB Streams), from",
        "botocore's service model, with its status in this server. Generated by",
        "`tools/compatibility.py`; edit the statuses there.",
        "",
        "Operations that are not offered answer `UnknownOperationException` with the message",
        "`The operation <Name> is not supported by this server` (HTTP 400). Global Tables are out of scope.",
        "",
        *PROTOCOL_AND_LIMITS,
    ]
    for service, title in (("dynamodb", "DynamoDB"), ("dynamodbstreams", "DynamoDB Streams")):
        model = loader.load_service_model(service, "service-2")
        shapes = model["shapes"]
        lines += [f"## {title}", "", "| operation | status | notes |", "|---|---|---|"]
        for op in sorted(model["operations"]):
            status, note = OPERATIONS.get(op, (NO, ""))
            lines.append(f"| [{op}](#{op.lower()}) | {LABEL[status]} | {note} |")
        lines.append("")
        for op in sorted(model["operations"]):
            status, _ = OPERATIONS.get(op, (NO, ""))
            members = shapes[model["operations"][op]["input"]["shape"]].get("members", {}) \
                if "input" in model["operations"][op] else {}
            lines += [f"### {op}", ""]
            if not members:
                lines += ["No parameters.", ""]
                continue
            lines += ["| parameter | status | notes |", "|---|---|---|"]
            for member in members:
                default = (SUPPORTED, "") if status != NO else (NO, "")
                p_status, p_note = PARAMETERS.get((op, member), default)
                lines.append(f"| {member} | {LABEL[p_status]} | {p_note} |")
            lines.append("")
    return "\n".join(lines)


PROTOCOL_AND_LIMITS = [
    "## Protocol and limits",
    "",
    "Checked before the work they bound, with DynamoDB's error texts (wireapi/errors.py marks",
    "the few that DynamoDB has not published).",
    "",
    "| what | behaviour |",
    "|---|---|",
    "| Request body | 16 MB, compressed or not: `RequestEntityTooLarge` (413). |",
    "| `Content-Encoding` | `gzip` (concatenated members too), `deflate`, `identity` (and `amz-1.0`, the JSON protocol's marker). Decompressed as it is read,"
    " at most 16 MB (a gzip bomb is refused with 413 after 16 MB of output; DynamoDB itself accepts far more)."
    " An unknown coding, or a body that does not decompress (truncated, not compressed, trailing bytes), is"
    " answered HTTP 500 `InternalServerError` as DynamoDB does, and nothing is done. The SigV4 payload hash is"
    " of the body as sent. |",
    "| `Accept-Encoding` | Responses of 4 KB or more are compressed with gzip or deflate, chosen as DynamoDB"
    " chooses (q-values, `*`, first listed wins a tie, an explicit coding beats `*`). `x-amz-crc32` is the CRC32"
    " of the bytes sent (compressed), which botocore checks. |",
    "| Request head | Request line and headers at most 64 KB: otherwise HTTP 431 and the connection is closed"
    " (ours; DynamoDB's front end limit is unpublished). |",
    "| Expressions | Each of KeyCondition-, Filter-, Condition-, Update- and ProjectionExpression at most 4 KB"
    " (UTF-8 bytes), checked before it is parsed: `Invalid <kind>: Expression size has exceeded the maximum"
    " allowed size; expression size: N`. At most 300 operators and functions, 100 IN operands. |",
    "| Placeholders | An ExpressionAttributeNames / -Values key at most 255 bytes; names and values of a request"
    " together at most 2 MB. |",
    "| Attribute values | Maps and lists nested at most 32 deep (`Nesting Levels have exceeded supported limits`),"
    " refused before any recursion, however deep the JSON (JSON deeper than 1024 is a SerializationException)."
    " A document path at most 32 elements. Attribute names at most 64 KB. Partition key values 2048 bytes, sort"
    " key values 1024 (also for index keys; a backfill leaves violators out of the index, as DynamoDB does). |",
    "| Cost | Parsing and evaluation are linear in the input. A request of 16 MB of tiny JSON values (a million"
    " of them) still costs its JSON parse: 0.5-1 s of CPU measured on the shared 2-core test machine. |",
    "",
]


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "compatibility.md"
    out.write_text(render())
    print(f"wrote {out}")
