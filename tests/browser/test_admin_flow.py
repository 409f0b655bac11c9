"""The web admin, driven through a real browser against the real server.

Django's model admin stays reachable beside the console (/console/, tested in
test_console_*): an operator signs in, creates a user and a policy, issues a
key and reads its secret off the page; applications then use that key with
boto3. Also: login lockout and the access log's CSV export.
"""
from __future__ import annotations

import csv
import io
import json
import time
import uuid


from ..server import manage
from .conftest import client_for, error_code, Admin, sign_in, submit


def _create_table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")


def _policy_only(table: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": [f"arn:aws:dynamodb:*:*:table/{table}", f"arn:aws:dynamodb:*:*:table/{table}/*"]}]})


def test_user_policy_key_lifecycle(page, shot, server, ddb, admin_account):
    allowed, other = f"wards-{uuid.uuid4().hex[:8]}", f"billing-{uuid.uuid4().hex[:8]}"
    _create_table(ddb, allowed)
    _create_table(ddb, other)
    user_name, policy_name = f"ward-app-{uuid.uuid4().hex[:6]}", f"WardsOnly-{uuid.uuid4().hex[:6]}"

    sign_in(page, admin_account)
    shot(page, "signed-in")

    # A policy with a mistake is refused with the validator's problems, then fixed.
    page.goto("/admin/accounts/policy/add/")
    page.fill("#id_name", policy_name)
    page.fill("#id_document", '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}')
    submit(page, "input[name=_save]")
    assert page.locator(".errorlist").count() > 0
    shot(page, "policy-invalid")
    page.fill("#id_document", "{not json")
    submit(page, "input[name=_save]")
    assert "Enter a valid JSON" in page.inner_text(".errorlist")
    page.fill("#id_document", _policy_only(allowed))
    submit(page, "input[name=_save]")
    page.wait_for_url("**/admin/accounts/policy/")
    shot(page, "policy-saved")

    # The user, with the policy attached through the two-box selector.
    page.goto("/admin/accounts/iamuser/add/")
    page.fill("#id_name", user_name)
    page.select_option("#id_policies_from", label=policy_name)
    page.click("#id_policies_add")
    submit(page, "input[name=_continue]")
    page.wait_for_url("**/change/")
    shot(page, "user-created")

    # Issue a key: a confirmation, then the secret, once, on a page nothing may cache.
    submit(page, "#create-access-key")
    shot(page, "create-key-confirm")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        submit(page, "#confirm")
    assert "no-store" in posted.value.headers["cache-control"]
    key_id = page.inner_text("#access-key-id").strip()
    secret = page.inner_text("#secret-access-key").strip()
    assert key_id.startswith("AKIA") and len(secret) == 40
    shot(page, "key-shown-once")
    submit(page, "text=Done")
    assert secret not in page.content()  # the user's page lists the key, never the secret

    app = client_for(server, key_id, secret)
    app.put_item(TableName=allowed, Item={"pk": {"S": "bed-1"}, "patient": {"S": "p-17"}})
    assert app.get_item(TableName=allowed, Key={"pk": {"S": "bed-1"}})["Item"]["patient"] == {"S": "p-17"}
    assert error_code(lambda: app.get_item(TableName=other, Key={"pk": {"S": "x"}})) == "AccessDeniedException"

    # Deactivate the key in the UI: the application is refused within seconds.
    page.goto(f"/admin/accounts/accesskey/?q={key_id}")
    page.check("input.action-select[value]")  # the one row the search found
    page.select_option("select[name=action]", "deactivate")
    submit(page, "button[name=index]")
    assert "Deactivated 1 access key" in page.inner_text(".messagelist")
    shot(page, "key-deactivated")
    deadline = time.monotonic() + 10
    code = None
    while time.monotonic() < deadline:
        code = error_code(lambda: app.get_item(TableName=allowed, Key={"pk": {"S": "bed-1"}}))
        if code == "UnrecognizedClientException":
            break
        time.sleep(0.25)
    assert code == "UnrecognizedClientException"

    # The change log names the key, never the secret.
    page.goto("/admin/")
    recent = page.inner_text("#recent-actions-module")
    assert key_id in recent or user_name in recent
    log = manage("shell", "-c", "from django.contrib.admin.models import LogEntry as L; "
                                "print('\\n'.join(str(e.get_change_message()) for e in L.objects.all()))").stdout
    assert f"Created access key {key_id}" in log and f"Deactivated access key {key_id}" in log
    assert secret not in log
    assert not page.console_errors, page.console_errors


def test_rotate_key(page, shot, server, ddb, admin_account):
    table = f"rotate-{uuid.uuid4().hex[:8]}"
    _create_table(ddb, table)
    sign_in(page, admin_account)
    page.goto("/admin/accounts/iamuser/add/")
    user_name = f"rot-{uuid.uuid4().hex[:6]}"
    page.fill("#id_name", user_name)
    page.select_option("#id_policies_from", label="AdministratorAccess")
    page.click("#id_policies_add")
    submit(page, "input[name=_continue]")
    submit(page, "#create-access-key")
    submit(page, "#confirm")
    old_id, old_secret = page.inner_text("#access-key-id").strip(), page.inner_text("#secret-access-key").strip()

    # A reload of the page that showed the secret shows it no more, and creates nothing.
    page.reload()
    assert old_secret not in page.content() and "shown once" in page.inner_text(".messagelist")
    shot(page, "reload-after-create")

    page.goto(f"/admin/accounts/accesskey/?q={old_id}")
    submit(page, f"text={old_id}")
    submit(page, "#rotate-access-key")
    assert page.locator("#id_grace option").all_inner_texts()[1:4] == ["in 1 hour", "in 1 day", "in 7 days"]
    page.select_option("#id_grace", "3600")  # the old key keeps working for an hour
    shot(page, "rotate-confirm")
    with page.expect_request(lambda r: r.method == "POST") as posted:
        submit(page, "#confirm")
    new_id, new_secret = page.inner_text("#access-key-id").strip(), page.inner_text("#secret-access-key").strip()
    assert new_id != old_id and new_secret != old_secret
    assert old_id in page.inner_text("#rotated-key") and "keeps working until" in page.inner_text("#rotated-key")
    shot(page, "rotated")
    client_for(server, new_id, new_secret).put_item(TableName=table, Item={"pk": {"S": "a"}})
    client_for(server, old_id, old_secret).put_item(TableName=table, Item={"pk": {"S": "b"}})  # the overlap
    # The browser resubmitting that POST (same form, same one-time token): nothing new.
    form = posted.value
    again = page.request.post(form.url, data=form.post_data, max_redirects=0, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Referer": form.url})
    assert again.status == 302 and new_secret not in again.text()
    page.reload()  # and a reload of the page that showed the new secret
    assert new_secret not in page.content()
    assert "already submitted" in page.inner_text(".messagelist")
    page.goto(f"/admin/accounts/accesskey/?q={user_name}")
    assert page.locator("#result_list tbody tr").count() == 2
    assert "UTC" in page.inner_text("#result_list")  # the old key's expiry, with its zone
    # Ending the overlap at once: an expiry of now, set on the key's own page.
    page.goto(f"/admin/accounts/accesskey/?q={old_id}")
    submit(page, f"text={old_id}")
    page.fill("#id_expires_at_0", "2000-01-01")
    page.fill("#id_expires_at_1", "00:00:00")
    submit(page, "input[name=_save]")
    deadline = time.monotonic() + 10
    while error_code(lambda: client_for(server, old_id, old_secret).put_item(
            TableName=table, Item={"pk": {"S": "a"}})) != "UnrecognizedClientException":
        assert time.monotonic() < deadline, "the expired old key was still accepted"
        time.sleep(0.25)


def test_login_lockout(page, shot, admin_account):
    victim = Admin(f"nurse-{uuid.uuid4().hex[:6]}", "correct horse battery staple 42")
    manage("createadmin", "--username", victim.username, "--password-stdin", input=victim.password + "\n")
    page.goto("/admin/login/")
    for attempt in range(5):
        page.fill("#id_username", victim.username)
        page.fill("#id_password", f"guess-{attempt}")
        submit(page, "input[type=submit]")
        if attempt < 4:
            assert page.locator(".errornote").count() == 1
    shot(page, "locked-out")
    assert page.locator("#lockout").count() == 1
    # Locked: even the right password is refused now.
    page.goto("/admin/login/")
    page.fill("#id_username", victim.username)
    page.fill("#id_password", victim.password)
    submit(page, "input[type=submit]")
    assert page.locator("#lockout").count() == 1
    assert "/admin/login/" in page.url
    # Other administrators are not locked out with them.
    sign_in(page, admin_account)


def test_access_log_csv_export(page, shot, admin_account, server, ddb, hash_table):
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}})
    # Entries as the access-log writer stores them; one looks like a spreadsheet formula.
    manage("shell", "-c", (
        "from django.utils import timezone; from storage.models import AccessLogEntry as E; "
        f"E.objects.create(time=timezone.now(), principal='=HYPERLINK(\"x\")', access_key_id='AKIATEST', "
        f"operation='PutItem', table_name='{hash_table}', outcome='OK', source='127.0.0.1', request_id='r1'); "
        f"E.objects.create(time=timezone.now(), principal='clinic', access_key_id='AKIATEST', "
        f"operation='GetItem', table_name='{hash_table}', outcome='AccessDeniedException', source='127.0.0.1', "
        "request_id='r2')"))
    sign_in(page, admin_account)
    page.goto(f"/admin/storage/accesslogentry/?q={hash_table}")
    assert page.locator("#result_list tbody tr").count() >= 2
    shot(page, "access-log")
    page.goto(f"/admin/storage/accesslogentry/?q={hash_table}&outcome=AccessDeniedException")
    with page.expect_download() as download:
        page.click("#export-csv")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[0][:6] == ["time", "principal", "access_key_id", "operation", "table_name", "outcome"]
    assert all(r[4] == hash_table and r[5] == "AccessDeniedException" for r in rows[1:]) and len(rows) >= 2
    page.goto(f"/admin/storage/accesslogentry/?q={hash_table}")
    with page.expect_download() as download:
        page.click("#export-csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text  # never a live formula
    # The admin action exports the ticked rows only.
    page.locator("#result_list tbody input.action-select").first.check()
    page.select_option("select[name=action]", "export_csv")
    with page.expect_download() as download:
        page.click("button[name=index]")
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8")))
    assert len(rows) == 2 and rows[1][4] == hash_table
