"""The data-plane access log: every request lands in ddb_access_log, in batches,
without slowing or failing requests; old entries are purged."""
from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client
from .server import create_key
from .test_authz import off_loop


def entries(django_db_blocker, request_ids: list[str], timeout: float = 8.0) -> dict[str, object]:
    """The log rows of these requests, waiting for the workers' batched flush."""
    from storage.models import AccessLogEntry

    deadline = time.monotonic() + timeout
    while True:
        with django_db_blocker.unblock():
            rows = off_loop(lambda: {e.request_id: e for e in AccessLogEntry.objects.filter(request_id__in=request_ids)})
        if len(rows) == len(request_ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def test_requests_are_logged(server, ddb, key, hash_table, django_db_blocker):
    ok = ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}})["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=f"missing-{uuid.uuid4().hex[:8]}", Key={"pk": {"S": "a"}})
    failed = err.value.response["ResponseMetadata"]["RequestId"]
    listed = ddb.list_tables()["ResponseMetadata"]["RequestId"]
    rows = entries(django_db_blocker, [ok, failed, listed])
    assert set(rows) == {ok, failed, listed}
    put = rows[ok]
    assert (put.principal, put.access_key_id, put.operation, put.table_name, put.outcome, put.source) == \
        ("tester", key.access_key_id, "PutItem", hash_table, "OK", "127.0.0.1")
    assert abs((put.time - datetime.now(timezone.utc)).total_seconds()) < 60
    assert (rows[failed].operation, rows[failed].outcome) == ("GetItem", "ResourceNotFoundException")
    assert (rows[listed].operation, rows[listed].table_name) == ("ListTables", "")


def test_denied_and_unauthenticated_requests_are_logged(server, django_db_blocker):
    from .server import Key

    client = make_client(server, Key("AKIANOSUCHKEY0000000", "x" * 40))
    with pytest.raises(ClientError) as err:
        client.list_tables()
    rid = err.value.response["ResponseMetadata"]["RequestId"]
    row = entries(django_db_blocker, [rid])[rid]
    assert (row.principal, row.outcome) == ("", "UnrecognizedClientException")


def test_key_last_used_is_recorded(server, django_db_blocker):
    from accounts.models import AccessKey

    fresh = create_key(f"lu{uuid.uuid4().hex[:8]}")
    def last_used():
        return off_loop(lambda: AccessKey.objects.get(access_key_id=fresh.access_key_id).last_used_at)

    with django_db_blocker.unblock():
        assert last_used() is None
    make_client(server, fresh).list_tables()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        with django_db_blocker.unblock():
            used = last_used()
        if used is not None:
            break
        time.sleep(0.2)
    assert used is not None and abs((used - datetime.now(timezone.utc)).total_seconds()) < 60


def test_retention_purges_old_entries(server, django_db_blocker, settings):
    """purge_once (the background task's step) through the real storage backend."""
    from storage.models import AccessLogEntry
    from wireapi import audit, runtime

    old_id, new_id = f"old-{uuid.uuid4().hex}", f"new-{uuid.uuid4().hex}"
    now = datetime.now(timezone.utc)
    def add_entries() -> None:
        for rid, age in ((old_id, 91), (new_id, 89)):
            AccessLogEntry.objects.create(time=now - timedelta(days=age), principal="p", access_key_id="k",
                                          operation="GetItem", table_name="t", outcome="OK", source="",
                                          request_id=rid)

    async def purge() -> int:
        try:
            return await audit.purge_once(now)
        finally:
            await runtime.shutdown()

    settings.EXTENDDB_ACCESS_LOG_RETENTION_DAYS = 90
    with django_db_blocker.unblock():
        off_loop(add_entries)
        assert off_loop(asyncio.run, purge()) >= 1
        left = off_loop(lambda: set(AccessLogEntry.objects.filter(
            request_id__in=[old_id, new_id]).values_list("request_id", flat=True)))
    assert left == {new_id}


def test_buffer_is_bounded_and_drops_are_counted(monkeypatch):
    """With the database unreachable the buffer stops growing; nothing raises."""
    from wireapi import audit

    log = audit._AccessLog()
    monkeypatch.setattr(audit, "MAX_BUFFERED", 5)
    for i in range(8):
        log.append((datetime.now(timezone.utc), "p", "k", "GetItem", "t", "OK", "", str(i)))
    assert len(log.rows) == 5 and log.dropped == 3
