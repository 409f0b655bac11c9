"""The data-plane access log: every request lands in ddb_access_log, in batches,
without slowing or failing requests; old entries are purged."""
from __future__ import annotations

import asyncio
import re
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


def test_retention_purges_old_entries_and_records_the_purge(server, django_db_blocker, settings):
    """purge_once (the background task's step) through the real storage backend: the only
    DELETE the database lets through, and itself an entry of the log."""
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
        removed = off_loop(asyncio.run, purge())
        assert removed >= 1
        left = off_loop(lambda: set(AccessLogEntry.objects.filter(
            request_id__in=[old_id, new_id]).values_list("request_id", flat=True)))
        record = off_loop(lambda: AccessLogEntry.objects.filter(operation="PurgeAccessLog").order_by("-id").first())
    assert left == {new_id}
    cutoff = (now - timedelta(days=90)).strftime("%Y-%m-%d %H:%M:%S")
    assert record is not None and record.principal == "extenddb:retention" and record.outcome == "OK"
    assert record.error_message == f"Purged {removed} entries older than {cutoff} UTC (retention 90 days)"


def test_entries_carry_the_error_message_and_latency(server, ddb, hash_table, django_db_blocker):
    ok = ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}})["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=hash_table, Key={"pk": {"N": "1"}})
    failed = err.value.response["ResponseMetadata"]["RequestId"]
    rows = entries(django_db_blocker, [ok, failed])
    assert rows[ok].error_message == "" and 0 < rows[ok].latency_ms < 30_000
    assert rows[failed].outcome == "ValidationException"
    assert rows[failed].error_message == err.value.response["Error"]["Message"]
    assert rows[failed].latency_ms > 0


def test_a_nul_character_in_an_echoed_value_does_not_stop_the_log(server, ddb, hash_table, django_db_blocker):
    """PostgreSQL text cannot hold NUL: the entry is kept with U+FFFD, and the entries
    buffered with it (and after it) still reach the database."""
    with pytest.raises(ClientError) as err:
        ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}}, ProjectionExpression="#a\x00b")
    bad = err.value.response["ResponseMetadata"]["RequestId"]
    assert "\x00" in err.value.response["Error"]["Message"]
    ok = ddb.put_item(TableName=hash_table, Item={"pk": {"S": "after-nul"}})["ResponseMetadata"]["RequestId"]
    rows = entries(django_db_blocker, [bad, ok])
    assert set(rows) == {bad, ok}
    assert "\x00" not in rows[bad].error_message and "\ufffd" in rows[bad].error_message


def test_no_secret_or_signature_is_ever_logged(server, django_db_blocker):
    """Whatever a client sends, the log holds neither a secret nor a signature (some
    DynamoDB messages echo the Authorization header: the log's copy is redacted)."""
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from storage.models import AccessLogEntry

    fresh = create_key(f"sec{uuid.uuid4().hex[:8]}")
    ids = [make_client(server, fresh).list_tables()["ResponseMetadata"]["RequestId"]]
    with pytest.raises(ClientError) as err:  # the right key ID, a wrong secret: InvalidSignature
        make_client(server, type(fresh)(fresh.access_key_id, fresh.secret_access_key[::-1])).list_tables()
    ids.append(err.value.response["ResponseMetadata"]["RequestId"])
    # A signed request whose Authorization header lacks a part: IncompleteSignature echoes the header.
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    SigV4Auth(Credentials(fresh.access_key_id, fresh.secret_access_key), "dynamodb", "us-east-1").add_auth(req)
    headers = dict(req.prepare().headers)
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=", "SignedHeadrs=")
    answer = requests.post(server.endpoint + "/", data=b"{}", headers=headers, verify=server.ca_bundle, timeout=10)
    assert answer.json()["__type"].endswith("IncompleteSignatureException") and signature in answer.text
    ids.append(answer.headers["x-amzn-RequestId"])
    rows = entries(django_db_blocker, ids)
    assert len(rows) == 3
    assert rows[ids[2]].outcome == "IncompleteSignatureException" and "Signature=<redacted>" in rows[ids[2]].error_message
    with django_db_blocker.unblock():
        every = off_loop(lambda: list(AccessLogEntry.objects.values_list(
            "principal", "access_key_id", "operation", "table_name", "outcome", "source", "request_id",
            "served_by", "error_message")))
    text = "\n".join("\t".join(row) for row in every)
    assert fresh.secret_access_key not in text and signature not in text


def _an_entry(django_db_blocker) -> int:
    from storage.models import AccessLogEntry

    with django_db_blocker.unblock():
        return off_loop(lambda: AccessLogEntry.objects.create(
            time=datetime.now(timezone.utc), principal="evidence", access_key_id="AKIAEVIDENCE", operation="GetItem",
            table_name="t", outcome="OK", source="127.0.0.1", request_id=f"ev-{uuid.uuid4().hex}").pk)


def _exists(django_db_blocker, pk: int) -> bool:
    from storage.models import AccessLogEntry

    with django_db_blocker.unblock():
        return off_loop(lambda: AccessLogEntry.objects.filter(pk=pk).exists())


def test_the_orm_cannot_change_or_delete_entries(server, django_db_blocker):
    from storage.models import AccessLogEntry, AppendOnly

    pk = _an_entry(django_db_blocker)
    with django_db_blocker.unblock():
        entry = off_loop(AccessLogEntry.objects.get, pk=pk)
        for attempt in (entry.delete, lambda: AccessLogEntry.objects.filter(pk=pk).delete(),
                        lambda: AccessLogEntry.objects.filter(pk=pk).update(outcome="edited"),
                        lambda: AccessLogEntry.objects.all().delete()):
            with pytest.raises(AppendOnly):
                off_loop(attempt)
        entry.outcome = "edited"
        with pytest.raises(AppendOnly):
            off_loop(entry.save)
    assert _exists(django_db_blocker, pk)


def test_raw_sql_cannot_change_or_delete_entries(server, django_db_blocker):
    """The database itself refuses: a trigger on PostgreSQL and on SQLite."""
    from django.db import connection

    pk = _an_entry(django_db_blocker)
    statements = [f"DELETE FROM ddb_access_log WHERE id = {pk}", "DELETE FROM ddb_access_log",
                  f"UPDATE ddb_access_log SET outcome = 'edited' WHERE id = {pk}"]
    if connection.vendor == "postgresql":
        statements.append("TRUNCATE ddb_access_log")

    def run(statement: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement)

    with django_db_blocker.unblock():
        for statement in statements:
            with pytest.raises(Exception, match="append-only"):
                off_loop(run, statement)
    assert _exists(django_db_blocker, pk)


def test_the_admin_offers_no_way_to_change_or_delete_entries(server, django_db_blocker):
    """A superuser in the admin: no delete action, the delete and change pages refused,
    a forged delete_selected POST deletes nothing; times are shown with their zone."""
    from .server import manage
    from .test_key_pages import Browser

    pk = _an_entry(django_db_blocker)
    username, password = f"root-{uuid.uuid4().hex[:6]}", "a superuser's long passphrase 17"
    manage("createadmin", "--username", username, "--password-stdin", input=password + "\n")
    browser = Browser(server)
    browser.sign_in("admin", username, password)
    listing = browser.get("/admin/storage/accesslogentry/?q=evidence")
    assert listing.status_code == 200 and "AKIAEVIDENCE" in listing.text
    assert "delete_selected" not in listing.text and "export_csv" in listing.text
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", listing.text)
    assert "times in UTC" in listing.text
    assert browser.get(f"/admin/storage/accesslogentry/{pk}/delete/").status_code == 403
    forged = browser.post("/admin/storage/accesslogentry/", {"action": "delete_selected", "_selected_action": str(pk),
                                                             "post": "yes"})
    assert forged.status_code == 200
    change = browser.post(f"/admin/storage/accesslogentry/{pk}/change/", {"outcome": "edited"})
    assert change.status_code == 403
    assert _exists(django_db_blocker, pk)
    detail = browser.get(f"/admin/storage/accesslogentry/{pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.text


def test_buffer_is_bounded_and_drops_are_counted(monkeypatch):
    """With the database unreachable the buffer stops growing; nothing raises."""
    from wireapi import audit

    log = audit._AccessLog()
    monkeypatch.setattr(audit, "MAX_BUFFERED", 5)
    for i in range(8):
        log.append((datetime.now(timezone.utc), "p", "k", "GetItem", "t", "OK", "", str(i)))
    assert len(log.rows) == 5 and log.dropped == 3
