"""What the dashboard and the settings page say about the server itself."""
from __future__ import annotations

from django.conf import settings
from django.db import connection

from extenddb_site.version import __version__


def server_version() -> str:
    return __version__


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
