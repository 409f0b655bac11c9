"""`manage.py backupdb <path>`: an online, consistent copy of the whole database.

PostgreSQL: `pg_dump --format=custom` (restore with `pg_restore`, see
docs/operations.md). SQLite: `VACUUM INTO`, a transactionally consistent copy
taken while the server keeps running — unlike a plain file copy, which can
miss what is still in the WAL file. Access-key secrets in the copy stay
encrypted under the master key, which must be backed up separately.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write a consistent backup of the whole database (pg_dump -Fc on PostgreSQL, VACUUM INTO on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="file to write; must not exist yet")

    def handle(self, *args, **opts):
        target = Path(opts["path"]).resolve()
        if target.exists():
            raise CommandError(f"{target} already exists; refusing to overwrite it")
        if not target.parent.is_dir():
            raise CommandError(f"directory {target.parent} does not exist")
        db = settings.DATABASES["default"]
        engine = db["ENGINE"]
        if engine.endswith("sqlite3"):
            _sqlite_backup(str(db["NAME"]), target)
        elif engine.endswith("postgresql"):
            _pg_dump(db, target)
        else:
            raise CommandError(f"no backup method for database engine {engine}")
        self.stdout.write(f"wrote {target} ({target.stat().st_size} bytes)")
        self.stdout.write("Back up the master key (EXTENDDB_MASTER_KEY or data/master.key) separately.")


def _sqlite_backup(source: str, target: Path) -> None:
    conn = sqlite3.connect(source, timeout=30)
    try:
        conn.execute("VACUUM INTO ?", (str(target),))
    except sqlite3.Error as exc:
        raise CommandError(f"VACUUM INTO failed: {exc}") from exc
    finally:
        conn.close()


def _pg_dump(db: dict, target: Path) -> None:
    binary = shutil.which("pg_dump")
    if binary is None:
        raise CommandError("pg_dump not found on PATH (install the PostgreSQL client tools)")
    env = os.environ.copy()
    # Connection settings go through libpq's environment, so the password is
    # never on a command line that `ps` shows.
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                     ("PGDATABASE", "NAME")):
        if db.get(key):
            env[var] = str(db[key])
    result = subprocess.run([binary, "--format=custom", "--no-owner", f"--file={target}"], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        target.unlink(missing_ok=True)
        raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
