"""Offline consistency check of the stored data (`manage.py checkconsistency`).

Recomputes what every item implies and compares it with what is stored:
- each item row: its body parses, its stored key columns, size and segment
  hash are the ones the body gives;
- each ACTIVE secondary index: the entries every item should have (key and
  projection computed by wireapi.indexes, the same code the write path uses)
  against the rows of ddb_index_entry: missing, extra and stale entries;
  Multi-attribute GSI keys are recomputed the same way; an item that has
  every key attribute of an index yet breaks its key schema (type, empty
  value, size: left out by the backfill, as DynamoDB leaves it out) is
  counted as an index key violation, not as a problem;
- each stream: sequence numbers positive, unique and below the stream's
  next sequence number;
- with point-in-time recovery, the item history: each key's versions numbered
  1, 2, … without gaps, stamped in that order, and the last version of every key
  equal to the live item (a tombstone for an absent one), so a restore to now
  gives the table back.

Reads through the ORM (the schema's owner), one table at a time, streaming
items in key order so memory holds one index's entry keys, not the items.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from storage.backends.base import IndexRecord
from storage.backends.sql import segment_hash
from storage.keycodec import encode_key_value
from storage.models import Index, IndexEntry, Item, ItemHistory, PitrSource, Stream, StreamRecord, Table

_CHUNK = 2000


@dataclass
class Problem:
    table: str
    kind: str  # e.g. "missing-index-entry", "extra-index-entry", "stale-index-entry", "bad-item"
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.kind}: {self.detail}"


@dataclass
class TableReport:
    table: str
    items: int = 0
    index_entries: int = 0
    stream_records: int = 0
    history_versions: int = 0
    index_key_violations: int = 0  # items left out of an index by its key schema
    problems: list[Problem] = field(default_factory=list)


def _bytes(value: Any) -> bytes:
    return bytes(value) if not isinstance(value, bytes) else value


def _digest(body: Any) -> bytes:
    """A canonical digest of a DynamoDB JSON item (key order does not matter)."""
    return hashlib.sha256(orjson.dumps(orjson.loads(_bytes(body)), option=orjson.OPT_SORT_KEYS)).digest()


def _items(table_id: int) -> Iterator[tuple[bytes, bytes, bytes, int, int]]:
    rows = Item.objects.filter(table_id=table_id).order_by("hash_key", "range_key").values_list(
        "hash_key", "range_key", "body", "size", "segment_hash")
    for pk, sk, body, size, seg in rows.iterator(chunk_size=_CHUNK):
        yield _bytes(pk), _bytes(sk), _bytes(body), size, seg


def _specs(table: Table) -> list[Any]:
    from wireapi.indexes import build_specs
    from wireapi.key_schemas import key_schema

    records = {i.name: IndexRecord(i.id, i.name, i.kind, i.status) for i in Index.objects.filter(table=table)}
    return build_specs(table.description, key_schema(table.description), records)


def _check_item(report: TableReport, schema: Any, pk: bytes, sk: bytes, body: bytes, size: int,
                seg: int) -> dict[str, Any] | None:
    from wireapi import values

    where = f"item {pk.hex()}/{sk.hex()}"
    try:
        item = orjson.loads(body)
        expected_pk = encode_key_value(item[schema.hash_name])
        expected_sk = encode_key_value(item[schema.range_name]) if schema.range_name else b""
        actual_size = values.item_size(item)
    except Exception as exc:  # any undecodable body is itself the finding
        report.problems.append(Problem(report.table, "bad-item", f"{where}: body unreadable ({exc!r})"))
        return None
    if (expected_pk, expected_sk) != (pk, sk):
        report.problems.append(Problem(report.table, "bad-item", f"{where}: key columns differ from the body"))
    if actual_size != size:
        report.problems.append(Problem(report.table, "bad-item", f"{where}: size {size}, body gives {actual_size}"))
    if seg != segment_hash(pk):
        report.problems.append(Problem(report.table, "bad-item", f"{where}: wrong segment hash"))
    return item


def check_table(table: Table) -> TableReport:
    from wireapi.indexes import index_key, key_violation, project
    from wireapi.key_schemas import key_schema

    report = TableReport(table.name)
    schema = key_schema(table.description)
    # Only ACTIVE indexes are complete: a CREATING GSI is still being backfilled.
    specs = [s for s in _specs(table) if s.status == "ACTIVE"]
    expected: dict[int, dict[tuple[bytes, bytes, bytes, bytes], bytes]] = {s.id: {} for s in specs}
    for pk, sk, body, size, seg in _items(table.id):
        report.items += 1
        item = _check_item(report, schema, pk, sk, body, size, seg)
        if item is None:
            continue
        for spec in specs:
            key = index_key(spec, item)
            if key is None and key_violation(spec, item):
                report.index_key_violations += 1
            if key is not None:
                entry = orjson.dumps(project(spec, item), option=orjson.OPT_SORT_KEYS)
                expected[spec.id][(key[0], key[1], pk, sk)] = hashlib.sha256(entry).digest()
    for spec in specs:
        _compare_index(report, spec.name, spec.id, expected[spec.id])
    _check_streams(report, table)
    _check_history(report, table)
    return report


def _compare_index(report: TableReport, name: str, index_id: int,
                   expected: dict[tuple[bytes, bytes, bytes, bytes], bytes]) -> None:
    rows = IndexEntry.objects.filter(index_id=index_id).values_list(
        "index_hash", "index_range", "hash_key", "range_key", "body")
    for ih, ir, pk, sk, body in rows.iterator(chunk_size=_CHUNK):
        report.index_entries += 1
        key = (_bytes(ih), _bytes(ir), _bytes(pk), _bytes(sk))
        want = expected.pop(key, None)
        where = f"index {name} entry for item {key[2].hex()}/{key[3].hex()}"
        if want is None:
            report.problems.append(Problem(report.table, "extra-index-entry", where))
        elif _digest(body) != want:
            report.problems.append(Problem(report.table, "stale-index-entry", where))
    for key in expected:
        report.problems.append(Problem(report.table, "missing-index-entry",
                                       f"index {name} lacks item {key[2].hex()}/{key[3].hex()}"))


def _check_streams(report: TableReport, table: Table) -> None:
    for stream in Stream.objects.filter(table=table):
        previous = 0
        seqs = StreamRecord.objects.filter(stream_id=stream.id).order_by("seq").values_list("seq", flat=True)
        for seq in seqs.iterator(chunk_size=_CHUNK):
            report.stream_records += 1
            if seq <= previous:
                report.problems.append(Problem(report.table, "stream-sequence",
                                               f"stream {stream.label}: {seq} after {previous}"))
            if seq >= stream.next_seq:
                report.problems.append(Problem(report.table, "stream-sequence",
                                               f"stream {stream.label}: {seq} not below next {stream.next_seq}"))
            previous = seq


def _last_versions(report: TableReport, source_id: int) -> Iterator[tuple[bytes, bytes, bytes | None]]:
    """Each key's last version, checking the numbering and stamps on the way (key order)."""
    rows = ItemHistory.objects.filter(source_id=source_id).order_by("hash_key", "range_key", "seq").values_list(
        "hash_key", "range_key", "seq", "committed_at", "body")
    key: tuple[bytes, bytes] | None = None
    seq, stamp, body = 0, 0.0, None
    for pk, sk, n, at, b in rows.iterator(chunk_size=_CHUNK):
        report.history_versions += 1
        this = (_bytes(pk), _bytes(sk))
        if this != key:
            if key is not None:
                yield (*key, body)
            key, seq, stamp = this, n - 1, at
        where = f"history of item {this[0].hex()}/{this[1].hex()}"
        if n != seq + 1:
            report.problems.append(Problem(report.table, "history-sequence", f"{where}: version {n} after {seq}"))
        if at < stamp:
            report.problems.append(Problem(report.table, "history-order", f"{where}: version {n} stamped earlier"))
        seq, stamp, body = n, at, None if b is None else _bytes(b)
    if key is not None:
        yield (*key, body)


def _check_history(report: TableReport, table: Table) -> None:
    """Merge the items and each key's last version, both in key order (memory: one row each)."""
    source = PitrSource.objects.filter(table=table).first()
    if source is None:
        return
    items = ((pk, sk, body) for pk, sk, body, _, _ in _items(table.id))
    versions = _last_versions(report, source.id)
    item, version = next(items, None), next(versions, None)
    while item is not None or version is not None:
        item_key = item[:2] if item is not None else None
        version_key = version[:2] if version is not None else None
        if version_key is None or (item_key is not None and item_key < version_key):
            report.problems.append(Problem(report.table, "history-missing",
                                           f"item {item_key[0].hex()}/{item_key[1].hex()} has no version"))
            item = next(items, None)
        elif item_key is None or version_key < item_key:
            if version[2] is not None:
                report.problems.append(Problem(report.table, "history-mismatch", f"item {version_key[0].hex()}/"
                                               f"{version_key[1].hex()} is gone but its last version is not a deletion"))
            version = next(versions, None)
        else:
            if version[2] is None or _digest(version[2]) != _digest(item[2]):
                report.problems.append(Problem(report.table, "history-mismatch", f"item {item_key[0].hex()}/"
                                               f"{item_key[1].hex()}: its last version is not the item"))
            item, version = next(items, None), next(versions, None)


def check(table_name: str | None = None) -> list[TableReport]:
    """Check one table (by name) or all of them; raises Table.DoesNotExist for an unknown name."""
    tables = [Table.objects.get(name=table_name)] if table_name else list(Table.objects.order_by("name"))
    return [check_table(table) for table in tables]
