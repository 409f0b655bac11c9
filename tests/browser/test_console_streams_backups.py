"""The console's stream tail (a websocket), backups and point-in-time recovery, and
imports and exports, in a real browser against the real server."""
from __future__ import annotations

import ssl
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from playwright.sync_api import expect
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from .. import testenv
from ..conftest import poll
from .conftest import submit


@pytest.fixture
def streamed(ddb):
    name = f"admissions-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    yield name
    for table in ddb.list_tables()["TableNames"]:
        if table.startswith(name):
            try:
                ddb.delete_table(TableName=table)
            except ClientError:
                pass


def test_live_stream_tail_shows_writes_as_they_happen(console, shot, ddb, streamed):
    ddb.put_item(TableName=streamed, Item={"pk": {"S": "before"}})  # older than the tail: not shown from "now"
    console.goto("/console/streams/")
    assert console.locator(f"#streams tr[data-table='{streamed}']").count() == 1
    submit(console, f"#streams tr[data-table='{streamed}'] a.tail-link")
    expect(console.locator("#tail-status")).to_contain_text("Watching", timeout=20_000)
    ddb.put_item(TableName=streamed, Item={"pk": {"S": "bed-4"}, "patient": {"S": "p-17"}})
    ddb.update_item(TableName=streamed, Key={"pk": {"S": "bed-4"}}, UpdateExpression="SET patient = :p",
                    ExpressionAttributeValues={":p": {"S": "p-18"}})
    ddb.delete_item(TableName=streamed, Key={"pk": {"S": "bed-4"}})
    expect(console.locator("#tail-records tbody tr")).to_have_count(3, timeout=20_000)
    events = console.locator("#tail-records tbody tr td:nth-child(2)").all_inner_texts()
    assert events == ["REMOVE", "MODIFY", "INSERT"]  # newest first
    modify = console.locator("#tail-records tbody tr").nth(1).inner_text()
    assert "p-18" in modify and "p-17" in modify  # new and old image
    assert "before" not in console.inner_text("#tail-records")
    shot(console, "stream-tail")
    # From the oldest record: the earlier write too.
    console.goto(f"/console/streams/{streamed}/?from=trim_horizon")
    expect(console.locator("#tail-records tbody tr")).to_have_count(4, timeout=20_000)
    assert "before" in console.inner_text("#tail-records")
    assert not console.console_errors, console.console_errors


def test_stream_tail_refuses_without_a_session(page, server, streamed):
    page.goto(f"/console/streams/{streamed}/")
    assert "/console/login/" in page.url
    context = ssl.create_default_context(cafile=server.ca_bundle)
    url = server.endpoint.replace("https://", "wss://") + f"/console/ws/streams/{streamed}/"
    with pytest.raises(InvalidStatus) as refused:  # no session: the handshake itself is refused
        with connect(url, ssl=context, origin=server.endpoint, open_timeout=10):
            pass
    assert refused.value.response.status_code == 403


def test_backups_create_restore_delete_and_point_in_time(console, shot, ddb, streamed):
    ddb.put_item(TableName=streamed, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    console.goto(f"/console/backups/?table={streamed}")
    console.fill("#backup-name", "nightly")
    submit(console, "#create-backup-submit")
    assert "Backed up" in console.inner_text("#messages")
    row = console.locator("#backups tr[data-backup='nightly']")
    assert row.locator("td.status-AVAILABLE").count() == 1
    restored = f"{streamed}-restored"
    row.locator("input.restore-target").fill(restored)
    submit(console, "#backups tr[data-backup='nightly'] button.restore")
    assert f"Restored into table {restored}" in console.inner_text("#messages")
    assert ddb.get_item(TableName=restored, Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    # Point-in-time recovery: the status per table, turned on here.
    pitr = console.locator(f"#recovery tr[data-table='{streamed}']")
    assert pitr.locator(".pitr-status").inner_text() == "DISABLED"
    submit(console, f"#recovery tr[data-table='{streamed}'] button.pitr-toggle")
    assert console.locator(f"#recovery tr[data-table='{streamed}'] .pitr-status").inner_text() == "ENABLED"
    status = ddb.describe_continuous_backups(TableName=streamed)["ContinuousBackupsDescription"]
    assert status["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    shot(console, "backups")
    # Restore to a time (empty: the latest restorable time) makes a new table as it was.
    pitr = console.locator(f"#recovery tr[data-table='{streamed}']")
    pitr.locator("input[name=target]").fill(f"{streamed}-as-of")
    submit(console, f"#recovery tr[data-table='{streamed}'] form.row button")
    assert "Restoring" in console.inner_text("#messages"), console.inner_text("main")
    assert poll(lambda: "Item" in ddb.get_item(TableName=f"{streamed}-as-of", Key={"pk": {"S": "a"}})
                if f"{streamed}-as-of" in ddb.list_tables()["TableNames"] and ddb.describe_table(
                    TableName=f"{streamed}-as-of")["Table"]["TableStatus"] == "ACTIVE" else False, timeout=60)
    console.once("dialog", lambda dialog: dialog.accept())
    submit(console, "#backups tr[data-backup='nightly'] button.delete-backup")
    assert "Deleted the backup" in console.inner_text("#messages")
    assert ddb.list_backups(TableName=streamed)["BackupSummaries"] == []
    assert not console.console_errors, console.console_errors


def test_export_then_import_through_the_console(console, shot, ddb, streamed):
    ddb.put_item(TableName=streamed, Item={"pk": {"S": "x"}, "n": {"N": "5"}})
    ddb.update_continuous_backups(TableName=streamed, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    bucket = f"exports-{uuid.uuid4().hex[:6]}"
    (Path(testenv.DATA_DIR) / "s3" / bucket).mkdir(parents=True)  # a bucket is a folder of the S3 stand-in
    console.goto("/console/transfers/")
    console.select_option("#export-table", streamed)
    console.fill("#export-bucket", bucket)
    submit(console, "#start-export")
    assert "Started exporting" in console.inner_text("#messages")

    def finished() -> bool:
        console.goto("/console/transfers/")
        return "COMPLETED" in console.locator("#exports .export-status").all_inner_texts()
    assert poll(finished, timeout=60, interval=1)
    export = ddb.list_exports()["ExportSummaries"][0]
    prefix = ddb.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]["ExportManifest"].rsplit(
        "/", 1)[0] + "/data"
    console.fill("#import-bucket", bucket)
    console.fill("#import-prefix", prefix)
    console.fill("#import-table", f"{streamed}-imported")
    console.select_option("#import-format", "DYNAMODB_JSON")
    console.select_option("select[name=compression]", "GZIP")
    submit(console, "#start-import")
    assert "Started importing" in console.inner_text("#messages"), console.inner_text("main")

    def imported() -> bool:
        try:
            return "Item" in ddb.get_item(TableName=f"{streamed}-imported", Key={"pk": {"S": "x"}})
        except ClientError:
            return False
    assert poll(imported, timeout=60, interval=1)
    console.goto("/console/transfers/")
    shot(console, "transfers")
    assert not console.console_errors, console.console_errors
