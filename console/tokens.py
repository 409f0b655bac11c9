"""Keys in URLs and forms: DynamoDB JSON as URL-safe base64, decoded defensively."""
from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


def encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).decode().rstrip("=")


def decode(text: str | None) -> dict[str, Any] | None:
    """The object a token stands for; None for anything that is not one."""
    if not text:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
