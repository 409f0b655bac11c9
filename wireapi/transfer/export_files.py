"""DynamoDB's export layout, written to a folder:

    <prefix>/AWSDynamoDB/<export id>/_started
    <prefix>/AWSDynamoDB/<export id>/data/<name>.json.gz | .ion.gz
    <prefix>/AWSDynamoDB/<export id>/manifest-files.json, manifest-files.md5
    <prefix>/AWSDynamoDB/<export id>/manifest-summary.json, manifest-summary.md5

Items are streamed into gzip files cut at a bounded uncompressed size, so an
export never holds more than one page of the table in memory.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from storage.files import create_private, write_private

from . import ion, s3paths

_CHUNK = 1 << 20


def _md5_of_file(path: Path) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def _md5_file(path: Path, content: bytes) -> None:
    """The .md5 companion of a manifest: the base64 MD5 of its content."""
    digest = hashlib.md5(content, usedforsecurity=False).digest()
    write_private(path.with_suffix(".md5"), base64.b64encode(digest))


@dataclass
class _DataFile:
    key: str
    path: Path
    stream: BinaryIO
    items: int = 0
    raw_bytes: int = 0


@dataclass
class ExportWriter:
    export_dir: Path  # <bucket>/<prefix>/AWSDynamoDB/<export id>
    export_key: str  # the same as an S3 key: <prefix>/AWSDynamoDB/<export id>
    export_format: str  # DYNAMODB_JSON or ION
    max_file_bytes: int
    item_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    _current: _DataFile | None = None

    def start(self) -> None:
        data = self.export_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        for leftover in data.glob("*.gz"):  # from a runner that died mid-export: this id is ours
            leftover.unlink()
        write_private(self.export_dir / "_started", b"")

    @property
    def _suffix(self) -> str:
        return ".ion.gz" if self.export_format == "ION" else ".json.gz"

    def _open(self) -> _DataFile:
        # Random names, as DynamoDB's: 26 lowercase base32 characters.
        name = base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower() + self._suffix
        key = s3paths.join_key(self.export_key, "data", name)
        path = self.export_dir / "data" / name
        create_private(path)  # items in clear: owner only (gzip keeps the mode)
        return _DataFile(key, path, gzip.open(path, "wb", compresslevel=6))

    def _line(self, body: bytes) -> bytes:
        if self.export_format == "ION":
            return ion.item_line(orjson.loads(body))
        return b'{"Item":' + bytes(body) + b"}\n"

    def add(self, body: bytes) -> None:
        """One item, as the DynamoDB JSON bytes storage keeps."""
        self._write(self._line(body))

    def add_change(self, record: dict[str, Any]) -> None:
        """One incremental export record (Metadata, Keys, NewImage, OldImage)."""
        self._write(ion.change_line(record) if self.export_format == "ION" else orjson.dumps(record) + b"\n")

    def _write(self, line: bytes) -> None:
        if self._current is None:
            self._current = self._open()
        self._current.stream.write(line)
        self._current.items += 1
        self._current.raw_bytes += len(line)
        self.item_count += 1
        if self._current.raw_bytes >= self.max_file_bytes:
            self._close()

    def _close(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        current.stream.close()
        md5 = _md5_of_file(current.path)
        # S3's ETag of a one-part multipart upload: MD5 of the part's MD5, "-1".
        etag = hashlib.md5(md5, usedforsecurity=False).hexdigest() + "-1"
        self.files.append({"itemCount": current.items, "md5Checksum": base64.b64encode(md5).decode("ascii"),
                           "etag": etag, "dataFileS3Key": current.key})

    def finish(self, summary: dict[str, Any]) -> str:
        """Close the data files, write the manifests; return the summary manifest's key."""
        if self._current is None and not self.files:
            self._current = self._open()  # an empty table still gets one (empty) data file
        self._close()
        files_manifest = b"".join(json.dumps(entry).encode() + b"\n" for entry in self.files)
        write_private(self.export_dir / "manifest-files.json", files_manifest)
        _md5_file(self.export_dir / "manifest-files.json", files_manifest)
        summary = {**summary, "manifestFilesS3Key": s3paths.join_key(self.export_key, "manifest-files.json"),
                   "itemCount": self.item_count, "outputFormat": self.export_format}
        summary_bytes = json.dumps(summary).encode()
        write_private(self.export_dir / "manifest-summary.json", summary_bytes)
        _md5_file(self.export_dir / "manifest-summary.json", summary_bytes)
        return s3paths.join_key(self.export_key, "manifest-summary.json")

    def abort(self) -> None:
        if self._current is not None:
            self._current.stream.close()
            self._current = None
