"""The console's identities and audit pages in a real browser against the real server:
a least-privilege user with a policy (checked as typed, then simulated), a key shown once
and used with boto3, rotation with overlap, the access log, administrators and lock-outs,
the dashboard and settings."""
from __future__ import annotations

import csv
import io
import json
import re
import uuid

from playwright.sync_api import expect

from ..server import manage
from ..conftest import poll
from .conftest import client_for, error_code, Admin, new_page, sign_in_console, submit, watch_errors


def _table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")


def _new_key(console, user_name: str) -> tuple[str, str]:
    console.goto(f"/console/users/{user_name}/")
    submit(console, "#create-key")
    with console.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(console, "#confirm-create-key")
    assert "no-store" in posted.value.headers["cache-control"]
    return console.inner_text("#access-key-id").strip(), console.inner_text("#secret-access-key").strip()


def test_least_privilege_user_policy_simulator_and_key(console, shot, server, ddb):
    wards, billing = f"wards-{uuid.uuid4().hex[:6]}", f"billing-{uuid.uuid4().hex[:6]}"
    _table(ddb, wards)
    _table(ddb, billing)
    user_name, policy_name = f"ward-app-{uuid.uuid4().hex[:6]}", f"WardsReadWrite-{uuid.uuid4().hex[:6]}"

    console.goto("/console/users/")
    console.fill("#new-user-name", user_name)
    submit(console, "#create-user-submit")
    assert f"Created user {user_name}" in console.inner_text("#messages")

    # The editor checks as it is typed: a misspelt action and resource type are named.
    console.goto("/console/policies/new/")
    console.fill("#policy-name", policy_name)
    console.fill("#policy-document", json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["dynamodb:GetItm", "dynamodb:PutItem"],
        "Resource": f"arn:aws:dynamodb:*:*:tabel/{wards}"}]}))
    expect(console.locator("#problems li")).to_have_count(2)
    problems = console.inner_text("#problems")
    assert "dynamodb:GetItm" in problems and "did you mean dynamodb:GetItem" in problems and "'tabel'" in problems
    shot(console, "policy-problems")
    submit(console, "#save-policy")  # saving refuses it too (no script needed)
    assert console.locator("#problems li").count() == 2
    console.fill("#policy-document", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "WardsOnly", "Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
         "Resource": [f"arn:aws:dynamodb:*:*:table/{wards}", f"arn:aws:dynamodb:*:*:table/{wards}/index/*"]},
        {"Sid": "NoBedZero", "Effect": "Deny", "Action": "dynamodb:PutItem",
         "Resource": f"arn:aws:dynamodb:*:*:table/{wards}",
         "Condition": {"ForAnyValue:StringEquals": {"dynamodb:LeadingKeys": ["bed-0"]}}}]}, indent=2))
    expect(console.locator("#document-valid")).to_be_visible()
    submit(console, "#save-policy")
    assert f"Saved policy {policy_name}" in console.inner_text("#messages")
    console.check(f"#attach-form input[data-user='{user_name}']")
    submit(console, "#save-attachments")
    assert console.locator(f"#attach-form input[data-user='{user_name}']").is_checked()
    shot(console, "policy-attached")

    # The simulator answers with the statement that decided.
    console.goto("/console/policies/simulate/")
    console.select_option("#sim-user", user_name)
    for action, table, key, decision, sid in (("dynamodb:GetItem", wards, "", "Allowed", "WardsOnly"),
                                              ("dynamodb:GetItem", billing, "", "Denied", None),
                                              ("dynamodb:PutItem", wards, "bed-0", "Denied explicitly", "NoBedZero"),
                                              ("dynamodb:PutItem", wards, "bed-1", "Allowed", "WardsOnly")):
        console.fill("#sim-action", action)
        console.fill("#sim-table", table)
        console.fill("#sim-key", key)
        submit(console, "#sim-run")
        assert console.inner_text("#verdict-decision") == decision, (action, table, key)
        statement = console.inner_text("#verdict-statement")
        assert (sid in statement and policy_name in statement) if sid else "denied by default" in statement
    shot(console, "simulator")

    # The key: shown once; the application's calls then go exactly as simulated.
    key_id, secret = _new_key(console, user_name)
    assert key_id.startswith("AKIA") and len(secret) == 40
    with console.expect_download() as download:
        console.click("#download-csv")
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8")))
    assert rows == [["Access key ID", "Secret access key"], [key_id, secret]]
    shot(console, "key-shown-once")
    console.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.endpoint)
    console.click("#copy-secret")
    expect(console.locator("#copy-secret")).to_have_text("Copied")
    console.reload()  # a reload re-posts the form: refused, the secret is not shown again
    assert console.locator("#already-shown").count() == 1 and secret not in console.content()
    app = client_for(server, key_id, secret)
    app.put_item(TableName=wards, Item={"pk": {"S": "bed-1"}})
    assert error_code(lambda: app.put_item(TableName=wards, Item={"pk": {"S": "bed-0"}})) == "AccessDeniedException"
    assert error_code(lambda: app.get_item(TableName=billing, Key={"pk": {"S": "x"}})) == "AccessDeniedException"
    console.goto(f"/console/users/{user_name}/")
    assert secret not in console.content()
    assert not console.console_errors, console.console_errors


def test_keys_rotate_with_overlap_deactivate_delete(console, shot, server, ddb):
    table = f"rotate-{uuid.uuid4().hex[:6]}"
    _table(ddb, table)
    user_name = f"rot-{uuid.uuid4().hex[:6]}"
    manage("createkey", "--user", user_name)  # AdministratorAccess, as the command gives
    console.goto(f"/console/keys/?user={user_name}")
    old_id = console.locator("#keys tbody tr").first.get_attribute("data-key")
    submit(console, f"#keys tr[data-key='{old_id}'] a.rotate")
    submit(console, "#confirm-create-key")
    new_id, new_secret = console.inner_text("#access-key-id").strip(), console.inner_text("#secret-access-key").strip()
    assert new_id != old_id
    shot(console, "rotated")
    # Overlap: both keys work until the old one is deactivated.
    client_for(server, new_id, new_secret).put_item(TableName=table, Item={"pk": {"S": "a"}})
    console.goto(f"/console/keys/?user={user_name}")
    assert console.locator(f"#keys tr[data-key='{old_id}'] .key-status").inner_text() == "Active"
    submit(console, f"#keys tr[data-key='{old_id}'] button.deactivate")
    assert f"Deactivated access key {old_id}" in console.inner_text("#messages")
    assert console.locator(f"#keys tr[data-key='{old_id}'] .key-status").inner_text() == "Inactive"
    # Last use and where from (the access log's address of the key's last request).
    assert poll(lambda: console.reload() or console.locator(
        f"#keys tr[data-key='{new_id}'] .source").inner_text().strip() == "127.0.0.1", timeout=90, interval=2)
    console.once("dialog", lambda dialog: dialog.accept())
    submit(console, f"#keys tr[data-key='{old_id}'] button.delete")
    assert f"Deleted access key {old_id}" in console.inner_text("#messages")
    assert console.locator(f"#keys tr[data-key='{old_id}']").count() == 0
    assert not console.console_errors, console.console_errors


def test_access_log_search_filters_and_csv(console, shot, ddb):
    table = f"audit-{uuid.uuid4().hex[:6]}"
    _table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    error_code(lambda: ddb.get_item(TableName=table, Key={"pk": {"N": "1"}}))  # a ValidationException
    console.goto(f"/console/tables/{table}/items/")  # the console's own Scan is logged too

    def logged() -> bool:
        console.goto(f"/console/access-log/?q={table}")
        return console.locator("#log tbody tr").count() >= 4
    assert poll(logged, timeout=20, interval=0.5)
    text = console.inner_text("#log")
    assert "admin:" in text and "PutItem" in text and "UTC" in text
    console.select_option("#log-outcome", "errors")
    submit(console, "#log-apply")
    outcomes = console.locator("#log tbody td.bad").all_inner_texts()
    assert outcomes and all(o == "ValidationException" for o in outcomes)
    shot(console, "access-log")
    with console.expect_download() as download:
        console.click("#log-export")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[0][:6] == ["time", "principal", "access_key_id", "operation", "table_name", "outcome"]
    assert len(rows) >= 2 and all(r[4] == table and r[5] == "ValidationException" for r in rows[1:])
    # Read-only: there is nothing to post to.
    assert console.request.post(console.url, form={}).status in (403, 405)
    assert not console.console_errors, console.console_errors


def test_administrators_roles_lockout_and_unlock(console, browser, server, shot, ddb):
    table = f"ro-{uuid.uuid4().hex[:6]}"
    _table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    name = f"auditor-{uuid.uuid4().hex[:6]}"
    console.goto("/console/administrators/")
    console.fill("#admin-username", name)
    console.check("#role-tables_read")
    console.check("#role-access_log")
    with console.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(console, "#create-admin-submit")
    assert "no-store" in posted.value.headers["cache-control"]
    password = console.inner_text("#new-admin-password").strip()
    assert len(password) >= 20
    shot(console, "administrators")

    # The new administrator reads tables but the API refuses their writes, in its own words.
    reader = new_page(browser, server)
    watch_errors(reader)
    try:
        sign_in_console(reader, Admin(name, password))
        nav = reader.locator("nav.side").inner_text()
        assert "Tables" in nav and "Access log" in nav and "Access keys" not in nav and "Administrators" not in nav
        reader.goto(f"/console/tables/{table}/items/")
        assert reader.locator("#items tbody tr").count() == 1
        reader.goto("/console/partiql/")
        reader.fill("#statement", f'DELETE FROM "{table}" WHERE pk = \'a\'')
        submit(reader, "#run-statement")
        assert "AccessDeniedException" in reader.inner_text("#console-error")
        assert "dynamodb:PartiQLDelete" in reader.inner_text("#console-error")
        assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
        assert reader.goto("/console/keys/").status == 403
    finally:
        reader.context.close()

    # Five wrong passwords lock the name from this address; another administrator unlocks it.
    locked = new_page(browser, server)
    try:
        for attempt in range(5):
            locked.goto("/console/login/")
            locked.fill("#id_username", name)
            locked.fill("#id_password", f"wrong-{attempt}")
            submit(locked, "#sign-in")
        assert locked.locator("#lockout").count() == 1
        locked.goto("/console/login/")
        locked.fill("#id_username", name)
        locked.fill("#id_password", password)
        submit(locked, "#sign-in")
        assert locked.locator("#lockout").count() == 1  # even the right password
        console.goto("/console/administrators/")
        row = console.locator(f"#lockouts tr[data-username='{name}']")
        assert row.count() == 1
        shot(console, "lockouts")
        submit(console, f"#lockouts tr[data-username='{name}'] button.unlock")
        assert f"Unlocked {name}" in console.inner_text("#messages")
        sign_in_console(locked, Admin(name, password))
    finally:
        locked.context.close()


def test_dashboard_and_settings(console, shot, server, ddb):
    table = f"dash-{uuid.uuid4().hex[:6]}"
    _table(ddb, table)
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": str(i)}})
    error_code(lambda: ddb.get_item(TableName=table, Key={"pk": {"N": "1"}}))
    # A key nobody has used for 100 days shows up; a fresh one does not.
    idle = f"idle-{uuid.uuid4().hex[:6]}"
    manage("createkey", "--user", idle)
    manage("shell", "-c", "from datetime import timedelta; from django.utils import timezone; "
                          "from accounts.models import AccessKey; "
                          f"AccessKey.objects.filter(user__name='{idle}').update(created_at=timezone.now() - timedelta(days=100))")

    def counted() -> bool:
        console.goto("/console/")
        row = console.locator(f"#tables tr[data-table='{table}']")
        return row.count() == 1 and row.locator("td.requests").inner_text() == "5"  # CreateTable, 3 puts, 1 get
    assert poll(counted, timeout=20, interval=0.5)
    row = console.locator(f"#tables tr[data-table='{table}']")
    assert row.locator("td.errors").inner_text() == "1"
    assert idle in console.inner_text("#unused-keys")
    assert re.search(r"(SQLite|PostgreSQL) \d", console.inner_text("#server-database"))
    assert console.inner_text("#server-version")
    shot(console, "dashboard")
    console.goto("/console/settings/")
    assert "EXTENDDB_ACCESS_LOG_RETENTION_DAYS" in console.inner_text("#settings")
    assert not console.console_errors, console.console_errors


def test_console_pages_are_protected(page, server):
    # Not signed in: every page goes to the sign-in page, every POST is refused (no CSRF token).
    for path in ("/console/", "/console/tables/", "/console/keys/", "/console/policies/simulate/"):
        page.goto(path)
        assert "/console/login/" in page.url, path
    assert page.request.post("/console/keys/create/", form={"user": "x"}).status == 403
    response = page.request.get("/console/login/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "no-store" in response.headers.get("cache-control", "") or "max-age=0" in response.headers.get(
        "cache-control", "")
    assert response.headers["x-frame-options"] == "DENY"
