"""How the admin and the console show a time: in settings.TIME_ZONE (UTC unless
changed), with the zone named, so an audit reader never guesses which zone a time is in."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings


@cache
def _zone(name: str) -> ZoneInfo | timezone:
    return timezone.utc if name.upper() == "UTC" else ZoneInfo(name)


def display_zone() -> ZoneInfo | timezone:
    return _zone(settings.TIME_ZONE or "UTC")


def zone_name(when: datetime | None = None) -> str:
    """The zone's abbreviation ("UTC", "CET"), at `when` for zones with summer time."""
    return (when or datetime.now(timezone.utc)).astimezone(display_zone()).tzname() or str(display_zone())


def show_time(value: datetime | float | int | None, milliseconds: bool = False) -> str:
    """'2026-12-02 03:34:03 UTC' (or '... 03:34:03.123 UTC'); naive datetimes are UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(display_zone())
    text = local.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if milliseconds else local.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text} {local.tzname()}"
