"""Reading ImportTable's source objects: decompress as a stream (GZIP, ZSTD or
NONE) and turn lines (DYNAMODB_JSON, ION) or rows (CSV) into candidate items,
one at a time. Nothing holds a whole object in memory; a line longer than any
item could be is skipped as an error without being read whole."""
from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import zstandard

from . import ion

# An item is at most 400 KB; its DynamoDB JSON (base64, escapes) stays well under this.
MAX_LINE_BYTES = 4 * 1024 * 1024
_CHUNK = 1 << 16


class SourceError(Exception):
    """An object that cannot be read past this point (bad compression, bad encoding)."""


class _Counting(io.RawIOBase):
    """Counts the decompressed bytes read: ProcessedSizeBytes is the uncompressed size."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_object(path: Path, compression: str) -> tuple[io.BufferedReader, _Counting]:
    raw: BinaryIO = open(path, "rb")
    if compression == "GZIP":
        raw = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    elif compression == "ZSTD":
        raw = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True)
    counting = _Counting(raw)
    return io.BufferedReader(counting, buffer_size=_CHUNK), counting


@dataclass
class Candidate:
    """One line or row: its 1-based index in the object and the item (or why there is none)."""

    index: int
    item: dict[str, Any] | None
    error: str | None = None
    # StartBulkPutItems: the line's own ConditionExpression and its attribute names and values.
    condition: dict[str, Any] | None = None


def _lines(stream: io.BufferedReader) -> Iterator[tuple[int, bytes | None]]:
    index = 0
    while True:
        try:
            line = stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise SourceError(f"cannot decompress: {exc}") from None
        if not line:
            return
        index += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (more := stream.readline(_CHUNK)) and not more.endswith(b"\n"):
                pass
            yield index, None
            continue
        yield index, line


def _json_item(line: bytes) -> dict[str, Any]:
    doc = orjson.loads(line)
    if not isinstance(doc, dict) or not isinstance(doc.get("Item"), dict):
        raise ValueError("the line is not an object with an Item member")
    return doc["Item"]


def _ion_item(line: bytes) -> dict[str, Any]:
    return ion.parse_item(line.decode("utf-8"))


CONDITION_MEMBERS = ("ConditionExpression", "ExpressionAttributeNames", "ExpressionAttributeValues")


def line_candidates(stream: io.BufferedReader, input_format: str, conditions: bool = False) -> Iterator[Candidate]:
    """DYNAMODB_JSON and ION: one item per line; blank lines are skipped. With
    `conditions`, a DYNAMODB_JSON line may also carry CONDITION_MEMBERS beside Item."""
    parse = _ion_item if input_format == "ION" else _json_item
    for index, line in _lines(stream):
        if line is None:
            yield Candidate(index, None, f"line longer than {MAX_LINE_BYTES} bytes")
            continue
        if not line.strip():
            continue
        try:
            item = parse(line)
            condition = None
            if conditions and input_format != "ION":
                doc = orjson.loads(line)
                condition = {k: doc[k] for k in CONDITION_MEMBERS if k in doc} or None
            yield Candidate(index, item, None, condition)
        except (ValueError, UnicodeDecodeError, ion.IonItemError) as exc:
            yield Candidate(index, None, f"invalid {input_format} item: {exc}")


def csv_candidates(stream: io.BufferedReader, delimiter: str, header: list[str] | None,
                   types: dict[str, str]) -> Iterator[Candidate]:
    """CSV: the first row is the header unless HeaderList gives it. Attributes that
    AttributeDefinitions types (keys of the table and its indexes) get that type,
    every other value is imported as a string (S); empty values are left out."""
    csv.field_size_limit(MAX_LINE_BYTES)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Candidate(reader.line_num, None, f"invalid CSV: {exc}")
            continue
        except UnicodeDecodeError as exc:
            raise SourceError(f"not UTF-8: {exc}") from None
        except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise SourceError(f"cannot decompress: {exc}") from None
        index = reader.line_num
        if not row or row == [""]:
            continue
        if header is None:
            header = row
            continue
        if len(row) > len(header):
            yield Candidate(index, None, f"the row has {len(row)} fields, the header {len(header)}")
            continue
        item: dict[str, Any] = {}
        for name, value in zip(header, row):
            if value != "":
                item[name] = {types.get(name, "S"): value}
        yield Candidate(index, item)
