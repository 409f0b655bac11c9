"""What the dashboard and the settings page say about the server itself."""
from __future__ import annotations

from functools import cache
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@cache
def server_version() -> str:
    """The installed distribution's version; from a checkout, the CHANGELOG's newest release."""
    try:
        return metadata.version("extenddb")
    except metadata.PackageNotFoundError:
        pass
    changelog = ROOT / "CHANGELOG.md"
    if changelog.exists():
        for line in changelog.read_text(encoding="utf-8").splitlines():
            if line.startswith("## ") and "unreleased" not in line.lower():
                return line[3:].strip() + " + unreleased changes"
    return "unreleased (from a source checkout)"


def database() -> str:
    """The backend and its server version, e.g. "PostgreSQL 15.8" or "SQLite 3.46.1 (embedded)"."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
            settings_db = settings.DATABASES["default"]
            return f"PostgreSQL {version} ({settings_db.get('HOST') or 'local socket'}, database {settings_db.get('NAME')})"
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]} (embedded, {settings.DATABASES['default']['NAME']})"
    return connection.vendor
