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
from datetime import datetime, timezone
from typing import Any

import orjson

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
FORMATS = ("text", "json")


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


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


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value…`, one record a line (a traceback follows its record)."""

    def format(self, record: logging.LogRecord) -> str:
        extra = _extra(record)
        line = f"{_time(record)} {record.levelname} {record.name} {record.getMessage()}"
        if extra:
            line += " " + " ".join(f"{k}={v}" for k, v in extra.items() if v is not None)
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
