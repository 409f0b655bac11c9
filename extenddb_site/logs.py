"""Log output: one formatter for everything a server process logs.

EXTENDDB_LOG_FORMAT=json writes one JSON object a line to standard output
(time, level, logger, message, and a request's fields: request_id,
principal, operation, table, outcome, status, latency_ms, bytes_in,
bytes_out, client); text (the default) writes the same records as plain lines.
Django's loggers, uvicorn's and Python's warnings (py.warnings) go through
the same handler, so nothing reaches the output unformatted.
EXTENDDB_LOG_LEVEL sets the threshold (INFO by default: background jobs'
start, progress and end; the request lines are INFO too, see
EXTENDDB_REQUEST_LOG in settings).
"""
from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any

import orjson

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
FORMATS = ("text", "json")


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _format_time(created: float) -> str:
    """ISO 8601 in UTC with milliseconds; the date and time of a second are formatted once."""
    second = int(created)
    if _second[0] != second:
        _second[:] = [second, datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_second[1]}.{int((created - second) * 1000):03d}Z"


def _time(record: logging.LogRecord) -> str:
    return _format_time(record.created)


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"time": _time(record), "level": record.levelname, "logger": record.name,
                                 "message": record.getMessage()}
        entry.update(_extra(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _text(created: float, level: str, logger: str, message: str, extra: dict[str, Any]) -> str:
    line = f"{_format_time(created)} {level} {logger} {message}"
    if extra:
        line += " " + " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
    return line


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value…`, one record a line (a traceback follows its record)."""

    def format(self, record: logging.LogRecord) -> str:
        line = _text(record.created, record.levelname, record.name, record.getMessage(), _extra(record))
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def logging_config(fmt: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: every logger through one stdout handler with the chosen formatter."""
    if fmt not in FORMATS:
        raise ValueError(f"EXTENDDB_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    level = level.upper()
    formatter = "extenddb_site.logs.JsonFormatter" if fmt == "json" else "extenddb_site.logs.TextFormatter"
    handler = {"handlers": ["stdout"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"extenddb": {"()": formatter}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "formatter": "extenddb"}},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's defaults give these their own handlers (runserver's, mail_admins);
            # here they print through the one formatter like everything else.
            "django": {**handler, "level": level},
            "django.server": {**handler, "level": level},
            "py.warnings": {**handler, "level": "WARNING"},
            # psycopg_pool logs every connection checkout at INFO: two lines a request.
            "psycopg": {**handler, "level": "WARNING"},
            # uvicorn's start-up chatter stays out (as before); its warnings and errors stay in.
            "uvicorn": {**handler, "level": "WARNING"},
            "uvicorn.error": {**handler, "level": "WARNING"},
            "uvicorn.access": {**handler, "level": "WARNING"},
        },
    }


def banner(message: str, fmt: str, **fields: Any) -> str:
    """A line `serve` prints (Endpoint:, TLS certificate…): plain text, or a JSON
    object like the log's in json format, so every line of the output parses."""
    if fmt != "json":
        return message
    record = logging.LogRecord("extenddb.serve", logging.INFO, "", 0, message, (), None)
    record.__dict__.update(fields)
    return JsonFormatter().format(record)


class RequestLines:
    """The request log (logger `extenddb.request`), formatted exactly as the handler
    formats records, without a LogRecord each (a logger.info() costs ~15 µs of CPU,
    this ~3). Lines are buffered and written at each metrics flush (every second)
    or every BUFFERED_LINES lines, in writes of whole lines of at most PIPE_BUF
    bytes: the workers share standard output, and such a write to a pipe is never
    interleaved with another process's. A crash loses at most the last second."""

    BUFFERED_LINES = 256
    NAME = "extenddb.request"

    def __init__(self) -> None:
        self._lines: list[bytes] = []
        self._json: bool | None = None

    def add(self, message: str, fields: dict[str, Any]) -> None:
        if self._json is None:
            from django.conf import settings

            self._json = settings.EXTENDDB_LOG_FORMAT == "json"
        created = time.time()
        if self._json:
            line = orjson.dumps({"time": _format_time(created), "level": "INFO", "logger": self.NAME,
                                 "message": message, **fields}, default=str)
        else:
            line = _text(created, "INFO", self.NAME, message, fields).encode()
        self._lines.append(line)
        if len(self._lines) >= self.BUFFERED_LINES:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        sys.stdout.flush()  # what print() and the handlers wrote comes first
        fd = sys.stdout.fileno()
        chunk: list[bytes] = []
        size = 0
        for line in lines:
            if chunk and size + len(line) + 1 > _PIPE_BUF:
                _write_all(fd, b"\n".join(chunk) + b"\n")
                chunk, size = [], 0
            chunk.append(line)
            size += len(line) + 1
        _write_all(fd, b"\n".join(chunk) + b"\n")


_PIPE_BUF = 4096


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


request_lines = RequestLines()
