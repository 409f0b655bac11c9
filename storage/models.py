"""The schema the data path reads and writes.

The ORM owns these tables (so `manage.py migrate` is the init step); the
request path issues the equivalent SQL directly through storage.backends.
Keys are order-preserving byte strings (storage.keycodec) so that byte order
is DynamoDB's order on every backend; item bodies are the DynamoDB JSON bytes
clients send and receive, so a read needs no conversion.
"""
from django.db import models


class Table(models.Model):
    """One DynamoDB table. `description` holds what DescribeTable reports."""

    name = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, default="ACTIVE")
    created_at = models.FloatField(help_text="Epoch seconds, as DynamoDB reports CreationDateTime")
    description = models.JSONField()
    # Bumped by every change of the table, its indexes or its streams. Item writes
    # carry the version they were validated against and are refused on a mismatch
    # (storage.backends.base.StaleSchema): no server acts on a stale schema.
    version = models.BigIntegerField(default=1, db_default=1)

    class Meta:
        db_table = "ddb_table"

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """Every table's items: (table, hash key, range key) is the primary key."""

    pk = models.CompositePrimaryKey("table_id", "hash_key", "range_key")
    # The primary key already starts with table_id: no separate index.
    table = models.ForeignKey(Table, on_delete=models.CASCADE, db_index=False)
    hash_key = models.BinaryField()
    range_key = models.BinaryField()  # b"" when the table has no range key
    body = models.BinaryField()
    size = models.IntegerField()
    # A 16-bit hash of hash_key: parallel Scan segments are ranges of it.
    segment_hash = models.IntegerField()

    class Meta:
        db_table = "ddb_item"


class Index(models.Model):
    """A secondary index (GSI or LSI) of a table; its entries live in IndexEntry."""

    table = models.ForeignKey(Table, on_delete=models.CASCADE, related_name="indexes")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=3, choices=[("GSI", "global"), ("LSI", "local")])
    status = models.CharField(max_length=16, default="ACTIVE")

    class Meta:
        db_table = "ddb_index"
        constraints = [models.UniqueConstraint(fields=["table", "name"], name="ddb_index_table_name")]


class IndexEntry(models.Model):
    """One item as seen through an index: keyed by the index key, then the base key
    (which keeps entries with equal index keys distinct), holding the projected item."""

    pk = models.CompositePrimaryKey("index_id", "index_hash", "index_range", "hash_key", "range_key")
    index = models.ForeignKey(Index, on_delete=models.CASCADE, db_index=False)
    index_hash = models.BinaryField()
    index_range = models.BinaryField()
    hash_key = models.BinaryField()
    range_key = models.BinaryField()
    body = models.BinaryField()
    size = models.IntegerField()

    class Meta:
        db_table = "ddb_index_entry"


class Stream(models.Model):
    """A table's change stream (one shard). Records stay readable for 24 hours,
    also after the stream is disabled or the table deleted."""

    arn = models.CharField(max_length=1024, unique=True)
    table = models.ForeignKey(Table, on_delete=models.SET_NULL, null=True, related_name="streams")
    table_name = models.CharField(max_length=255)
    label = models.CharField(max_length=64)
    view_type = models.CharField(max_length=32)
    status = models.CharField(max_length=16, default="ENABLED")
    created_at = models.FloatField()
    # Next sequence number. Writers take it with UPDATE … RETURNING inside their
    # own transaction, so sequence order is commit order (no gaps seen by readers).
    # On PostgreSQL it is taken at commit by a trigger (migration 0003), after
    # every item lock of the transaction, so writers cannot deadlock on it.
    next_seq = models.BigIntegerField(default=1)
    # The table's KeySchema, for DescribeStream after the table is gone.
    key_schema = models.JSONField(default=list)
    # When the stream was disabled (its records stay readable 24 hours more).
    disabled_at = models.FloatField(null=True)

    class Meta:
        db_table = "ddb_stream"


class StreamRecord(models.Model):
    pk = models.CompositePrimaryKey("stream_id", "seq")
    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, db_index=False)
    seq = models.BigIntegerField()
    created_at = models.FloatField()
    event_name = models.CharField(max_length=8)  # INSERT, MODIFY, REMOVE
    body = models.BinaryField()  # the record's "dynamodb" member as JSON bytes
    user_identity = models.BinaryField(null=True)  # set for TTL deletions

    class Meta:
        db_table = "ddb_stream_record"


class IdempotencyToken(models.Model):
    """TransactWriteItems ClientRequestToken, kept for 10 minutes."""

    token = models.CharField(max_length=36, primary_key=True)
    request_hash = models.BinaryField()
    response = models.BinaryField()
    created_at = models.FloatField()

    class Meta:
        db_table = "ddb_idempotency"


class Tag(models.Model):
    resource_arn = models.CharField(max_length=1024)
    key = models.CharField(max_length=128)
    value = models.CharField(max_length=256)

    class Meta:
        db_table = "ddb_tag"
        constraints = [models.UniqueConstraint(fields=["resource_arn", "key"], name="ddb_tag_resource_key")]


class Backup(models.Model):
    """An on-demand backup: a consistent copy of a table's items and description."""

    arn = models.CharField(max_length=1024, unique=True)
    name = models.CharField(max_length=255)
    table_name = models.CharField(max_length=255)
    table_arn = models.CharField(max_length=1024)
    status = models.CharField(max_length=16, default="CREATING")
    created_at = models.FloatField()
    size = models.BigIntegerField(default=0)
    item_count = models.BigIntegerField(default=0)
    description = models.JSONField()  # the table description at backup time
    # USER (CreateBackup) or SYSTEM (taken when a table with PITR enabled is deleted).
    backup_type = models.CharField(max_length=16, default="USER")

    class Meta:
        db_table = "ddb_backup"


class BackupItem(models.Model):
    pk = models.CompositePrimaryKey("backup_id", "hash_key", "range_key")
    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, db_index=False)
    hash_key = models.BinaryField()
    range_key = models.BinaryField()
    body = models.BinaryField()
    size = models.IntegerField()
    # Copied with the item so a restore is one INSERT … SELECT (see ddb_item.segment_hash).
    segment_hash = models.IntegerField(default=0)

    class Meta:
        db_table = "ddb_backup_item"


class Job(models.Model):
    """A background import or export and its progress."""

    arn = models.CharField(max_length=1024, unique=True)
    kind = models.CharField(max_length=8)  # IMPORT, EXPORT, RESTORE (point in time) or BULK
    status = models.CharField(max_length=16)
    created_at = models.FloatField()
    updated_at = models.FloatField()
    description = models.JSONField()

    class Meta:
        db_table = "ddb_job"


class AppendOnly(RuntimeError):
    """The access log is evidence: its entries are never changed or deleted (only the retention purge,
    wireapi.audit.purge_once, removes old ones, and it records doing so)."""


class _AppendOnlyQuerySet(models.QuerySet):
    def delete(self):
        raise AppendOnly("access-log entries cannot be deleted (only the retention purge removes them)")

    def update(self, **kwargs):
        raise AppendOnly("access-log entries cannot be changed")

    _raw_delete = delete


class AccessLogEntry(models.Model):
    """The data-plane audit log: one row per request, append-only.

    Nobody deletes or changes an entry: not the admin (no change or delete
    permission exists), not the ORM (the queryset refuses), not raw SQL (a
    trigger refuses UPDATE and DELETE on PostgreSQL and SQLite, except the
    retention purge's own DELETE; storage migration 0006). No entry holds a
    secret: error messages are DynamoDB's texts, which never carry one.
    """

    time = models.DateTimeField(db_index=True)
    principal = models.CharField(max_length=255)
    access_key_id = models.CharField(max_length=128)
    operation = models.CharField(max_length=64)
    table_name = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=128)
    source = models.CharField(max_length=64)
    request_id = models.CharField(max_length=64)
    # Which database answered a read: "primary", or "replica host:port" for an eventually
    # consistent read served by a hot standby; blank for requests that read nothing.
    served_by = models.CharField(max_length=128, blank=True, default="")
    # The error's message as the client got it (blank for OK), and the time from the
    # request's body read to its answer. A purge's own entry (operation PurgeAccessLog)
    # says here how many entries it removed and the cutoff.
    error_message = models.TextField(blank=True, default="")
    latency_ms = models.FloatField(null=True, blank=True)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        db_table = "ddb_access_log"
        verbose_name_plural = "access log entries"
        default_permissions = ("view",)  # no add/change/delete permission to grant anyone

    def delete(self, *args, **kwargs):
        raise AppendOnly("access-log entries cannot be deleted (only the retention purge removes them)")

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnly("access-log entries cannot be changed")
        super().save(*args, **kwargs)


class PitrSource(models.Model):
    """One window of point-in-time recovery of a table: created when PITR is
    enabled, holding what a restore needs after the table itself is gone.
    History rows belong to it, not to ddb_table, so they outlive the table
    for its recovery period. Disabling PITR deletes it with its history."""

    # The live table; NULL once the table is deleted (deleted_at says when).
    table = models.ForeignKey(Table, on_delete=models.SET_NULL, null=True, related_name="pitr_sources")
    table_name = models.CharField(max_length=255)
    table_arn = models.CharField(max_length=1024)
    table_uuid = models.CharField(max_length=36)  # the table's TableId
    enabled_at = models.FloatField()  # EarliestRestorableDateTime until the window passes it
    recovery_days = models.IntegerField()
    deleted_at = models.FloatField(null=True)
    # The table description at deletion (the live table's otherwise).
    description = models.JSONField(null=True)
    # History older than this has been compacted by the retention purge.
    purged_to = models.FloatField(default=0)

    class Meta:
        db_table = "ddb_pitr_source"


class ItemHistory(models.Model):
    """Every version an item of a PITR table has had: the new body of each
    write, or a tombstone (body NULL) for a deletion, stamped with the
    database's clock at the end of the writing transaction. The table as of T
    is, for each key, its last version stamped at or before T (one pass in
    key order); the changes between two instants are a range of stamps."""

    pk = models.CompositePrimaryKey("source_id", "hash_key", "range_key", "seq")
    source = models.ForeignKey(PitrSource, on_delete=models.CASCADE, db_index=False)
    hash_key = models.BinaryField()
    range_key = models.BinaryField()
    seq = models.BigIntegerField()  # per key, from 1: the key's versions in commit order
    committed_at = models.FloatField()
    body = models.BinaryField(null=True)
    size = models.IntegerField()

    class Meta:
        db_table = "ddb_item_history"
        indexes = [models.Index(fields=["source", "committed_at"], name="ddb_item_history_time")]


class ClusterGeneration(models.Model):
    """One row, bumped at commit (by PostgreSQL triggers, migration 0004) whenever a
    table, an index, a user, a key, a group or a policy changes, and announced with
    NOTIFY: every server's caches are valid for one value of it (storage.generation).
    Unused on SQLite, which is single-host and counts in a file beside the database."""

    value = models.BigIntegerField(default=0)

    class Meta:
        db_table = "ddb_generation"


class Server(models.Model):
    """A running `manage.py serve`, heartbeating from its background process: which
    servers share this database, and which once-per-cluster work each one runs."""

    server_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=255)
    port = models.IntegerField()
    pid = models.IntegerField()
    version = models.CharField(max_length=32, blank=True)
    started_at = models.FloatField()
    heartbeat_at = models.FloatField()
    leads = models.JSONField(default=list)  # BACKGROUND_TASKS entries this server runs

    class Meta:
        db_table = "ddb_server"
