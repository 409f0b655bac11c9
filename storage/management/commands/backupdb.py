"""`manage.py backupdb <path>`: an online, consistent copy of the whole database.

PostgreSQL: `pg_dump --format=custom` (restore with `pg_restore`, see
docs/operations.md). SQLite: `VACUUM INTO`, a transactionally consistent copy
taken while the server keeps running — unlike a plain file copy, which can
miss what is still in the WAL file. Access-key secrets in the copy stay
encrypted under the master key, which must be backed up separately. The copy
is readable by its owner only (it holds every item in clear).
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections import deque
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection

from storage.files import create_private
from storage.management.progress import add_progress_option, progress_bar

# VACUUM INTO runs in one call: SQLite's progress handler, every this many
# virtual-machine instructions, is where the bar looks at the copy's size.
_SQLITE_PROGRESS_STEPS = 200_000
_PG_DUMPING = "dumping contents of table "
_PG_VERBOSE = re.compile(r"pg_dump: (?!error:|detail:|hint:|warning:)")


class Command(BaseCommand):
    help = "Write a consistent backup of the whole database (pg_dump -Fc on PostgreSQL, VACUUM INTO on SQLite)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="file to write; must not exist yet")
        add_progress_option(parser)

    def handle(self, *args, **opts):
        target = Path(opts["path"]).resolve()
        if not target.parent.is_dir():
            raise CommandError(f"directory {target.parent} does not exist")
        db = settings.DATABASES["default"]
        engine = db["ENGINE"]
        if not engine.endswith(("sqlite3", "postgresql")):
            raise CommandError(f"no backup method for database engine {engine}")
        try:
            create_private(target)  # refuses an existing file, race-free; the writers keep its 0600
        except FileExistsError:
            raise CommandError(f"{target} already exists; refusing to overwrite it") from None
        try:
            if engine.endswith("sqlite3"):
                _sqlite_backup(str(db["NAME"]), target, opts)
            else:
                _pg_dump(db, target, opts)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        self.stdout.write(f"wrote {target} ({target.stat().st_size} bytes)")
        self.stdout.write("Back up the master key (EXTENDDB_MASTER_KEY or data/master.key) separately.")


def _sqlite_backup(source: str, target: Path, opts: dict) -> None:
    conn = sqlite3.connect(source, timeout=30)
    try:
        pages, free, page_size = (conn.execute(pragma).fetchone()[0]
                                  for pragma in ("PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size"))
        with progress_bar(opts, total=(pages - free) * page_size, unit="B", desc="backup") as bar:
            def watch() -> int:
                bar.update(max(0, target.stat().st_size - bar.n))
                return 0  # 0: go on

            conn.set_progress_handler(watch, _SQLITE_PROGRESS_STEPS)
            conn.execute("VACUUM INTO ?", (str(target),))
            bar.total = bar.n = target.stat().st_size
            bar.refresh()
    except sqlite3.Error as exc:
        raise CommandError(f"VACUUM INTO failed: {exc}") from exc
    finally:
        conn.close()


def _pg_tables() -> int:
    """Tables pg_dump will dump the contents of: the bar's total."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                        "AND n.nspname NOT LIKE 'pg_toast%%'")
            return cur.fetchone()[0]
    except DatabaseError as exc:
        raise CommandError(f"cannot read the database: {exc}") from exc


def _pg_dump(db: dict, target: Path, opts: dict) -> None:
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
    env["LC_MESSAGES"] = "C"  # --verbose lines are parsed for the bar
    last_lines: deque[str] = deque(maxlen=20)
    with progress_bar(opts, total=_pg_tables(), unit="table", desc="backup") as bar:
        process = subprocess.Popen([binary, "--format=custom", "--no-owner", "--verbose", f"--file={target}"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        for line in process.stderr:
            if _PG_DUMPING in line:
                bar.update(1)
                bar.set_postfix_str(line.rsplit(_PG_DUMPING, 1)[1].strip().strip('"'), refresh=False)
            elif not _PG_VERBOSE.match(line):  # errors, details, hints, anything unexpected
                last_lines.append(line.rstrip())
        if process.wait() != 0:
            raise CommandError("pg_dump failed: " + "\n".join(last_lines))
        bar.set_postfix_str("", refresh=False)
