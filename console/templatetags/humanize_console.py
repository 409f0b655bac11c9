"""Filters for the console's templates: sizes, times in one zone, typed values."""
from __future__ import annotations

from datetime import datetime, timezone

from django import template

register = template.Library()


@register.filter
def bytes(value) -> str:  # noqa: A001 - the filter's name in templates
    try:
        size = float(value)
    except (TypeError, ValueError):
        return ""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.filter
def utc(value) -> str:
    """A datetime or epoch seconds as UTC text; the console shows every time in UTC."""
    if value in (None, ""):
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def get_attr(obj, name):
    return getattr(obj, name, None)
