"""Pytest plugin loaded first (`-p tests.testenv` in pytest.ini): gives the
test run its own data directory and its own database, before Django's
settings are read.

EXTENDDB_TEST_BACKEND=sqlite (default) or postgres selects the backend;
EXTENDDB_TEST_PG_URL is the server to create the throw-away database on.
"""
from __future__ import annotations

import os
import tempfile
import uuid

BACKEND = os.environ.get("EXTENDDB_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get("EXTENDDB_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATA_DIR = tempfile.mkdtemp(prefix="extenddb-test-")
PG_DBNAME = f"extenddb_test_{uuid.uuid4().hex[:10]}"

os.environ["EXTENDDB_DATA_DIR"] = DATA_DIR
# The region the test server serves; every test client signs for it.
REGION = os.environ.setdefault("EXTENDDB_REGION", "us-east-1")
# Incremental exports of the few seconds a test spans (DynamoDB's minimum window is 15 minutes).
os.environ.setdefault("EXTENDDB_INCREMENTAL_EXPORT_MIN_SECONDS", "0")
if BACKEND == "postgres":
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{PG_DBNAME}"')
    os.environ["DATABASE_URL"] = PG_URL.rsplit("/", 1)[0] + "/" + PG_DBNAME
elif BACKEND == "sqlite":
    os.environ["DATABASE_URL"] = f"sqlite:///{DATA_DIR}/extenddb.sqlite3"
else:
    raise SystemExit(f"EXTENDDB_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")


def pytest_report_header(config):
    return f"extenddb backend: {BACKEND}; data dir: {DATA_DIR}"


def pytest_sessionfinish(session, exitstatus):
    # Keep the data directory (server logs) only when something failed.
    if exitstatus == 0 and not os.environ.get("EXTENDDB_KEEP_TEST_DATA"):
        import shutil

        shutil.rmtree(DATA_DIR, ignore_errors=True)


def pytest_unconfigure(config):
    if BACKEND == "postgres":
        import psycopg

        try:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_DBNAME}" WITH (FORCE)')
        except psycopg.Error:
            pass
