"""Filters for the console's templates: sizes, times in one zone, typed values."""
from __future__ import annotations

from datetime import datetime, timezone

from django import template

from storage.timefmt import show_time

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
    """A datetime or epoch seconds as text in the site's zone (settings.TIME_ZONE, UTC unless
    changed), the zone named: the same text the admin shows (storage.timefmt)."""
    if isinstance(value, (datetime, int, float)) or value in (None, ""):
        return show_time(value)
    return str(value)


@register.filter
def logtime(value) -> str:
    """An access-log time, to the millisecond (as the admin's access log shows it)."""
    return show_time(value, milliseconds=True) if isinstance(value, datetime) else utc(value)


@register.filter
def get(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def get_attr(obj, name):
    return getattr(obj, name, None)
