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
