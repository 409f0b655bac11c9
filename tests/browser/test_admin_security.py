"""The admin's own defences, checked over real HTTPS without a browser:
headers, cookie flags, CSRF, and the createadmin command."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from .. import testenv
from ..server import free_port, manage, start_server


@pytest.fixture
def http(server):
    session = requests.Session()
    session.trust_env = False
    session.verify = server.ca_bundle
    yield session
    session.close()


def test_security_headers_on_admin_pages(http, server):
    response = http.get(server.endpoint + "/admin/login/")
    assert response.status_code == 200
    headers = response.headers
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(headers["Strict-Transport-Security"].split("=")[1]) >= 180 * 24 * 3600
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in headers["Cache-Control"]
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_session_cookie_flags_and_lifetime(http, server):
    username = f"ops-{uuid.uuid4().hex[:6]}"
    password = "a long and unusual passphrase 93"
    manage("createadmin", "--username", username, "--password-stdin", input=password + "\n")
    http.get(server.endpoint + "/admin/login/")
    response = http.post(server.endpoint + "/admin/login/?next=/admin/",
                         data={"username": username, "password": password,
                               "csrfmiddlewaretoken": http.cookies["csrftoken"]},
                         headers={"Referer": server.endpoint + "/admin/login/"}, allow_redirects=False)
    assert response.status_code == 302
    session_cookie = next(c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("sessionid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie
    assert re.search(r"Max-Age=(\d+)", session_cookie).group(1) == str(8 * 3600)


def test_login_without_csrf_token_is_refused(http, server):
    response = http.post(server.endpoint + "/admin/login/", data={"username": "x", "password": "y"})
    assert response.status_code == 403


def test_createadmin_prints_a_strong_password_once(django_db_setup):
    username = f"first-{uuid.uuid4().hex[:6]}"
    out = manage("createadmin", "--username", username).stdout
    password = re.search(r"ADMIN_PASSWORD=(\S+)", out).group(1)
    assert len(password) >= 20
    again = manage("createadmin", "--username", username, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    quiet = manage("createadmin", "--if-none").stdout
    assert "ADMIN_PASSWORD" not in quiet  # an administrator exists: nothing is created or shown


def test_createadmin_refuses_a_weak_password(django_db_setup):
    result = manage("createadmin", "--username", f"weak-{uuid.uuid4().hex[:6]}", "--password-stdin",
                    input="password\n", check=False)
    assert result.returncode != 0 and "too common" in result.stderr


def test_plaintext_listener_refuses_the_admin(django_db_setup):
    port = free_port()
    srv = start_server(testenv.DATA_DIR, "--plaintext-port", str(port), workers=1)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/admin/login/", timeout=5)
                break
            except requests.ConnectionError:  # the plaintext listener starts beside the HTTPS one
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert response.status_code == 403 and "HTTPS only" in response.text
        assert "csrftoken" not in response.headers.get("Set-Cookie", "")
        console = requests.get(f"http://127.0.0.1:{port}/console/login/", timeout=5)
        assert console.status_code == 403 and "HTTPS only" in console.text
    finally:
        srv.stop()


def _staff(username: str, password: str, *permissions: str) -> None:
    """A staff account that is not a superuser, with only the given storage permissions."""
    manage("shell", "-c", (
        "from django.contrib.auth.models import Permission, User; "
        f"u = User.objects.create_user({username!r}, password={password!r}, is_staff=True); "
        f"u.user_permissions.set(Permission.objects.filter(content_type__app_label='storage', "
        f"codename__in={list(permissions)!r}))"))


def _sign_in(http, server, username: str, password: str) -> None:
    http.get(server.endpoint + "/console/login/")
    response = http.post(server.endpoint + "/console/login/",
                         data={"username": username, "password": password,
                               "csrfmiddlewaretoken": http.cookies["csrftoken"]},
                         headers={"Referer": server.endpoint + "/console/login/"}, allow_redirects=False)
    assert response.status_code == 302


def _post(http, server, path: str, data: dict):
    return http.post(server.endpoint + path, data={**data, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
                     headers={"Referer": server.endpoint + path}, allow_redirects=False)


def test_console_data_needs_table_permissions_and_the_api_decides_writes(http, server, ddb, hash_table):
    password = "an auditor's long passphrase 7"
    auditor = f"auditor-{uuid.uuid4().hex[:6]}"
    _staff(auditor, password, "view_accesslogentry")
    _sign_in(http, server, auditor, password)
    assert http.get(server.endpoint + "/console/access-log/").status_code == 200
    assert http.get(server.endpoint + "/console/tables/").status_code == 403  # no table data for auditors
    assert http.get(server.endpoint + f"/console/tables/{hash_table}/items/").status_code == 403

    reader = f"reader-{uuid.uuid4().hex[:6]}"
    _staff(reader, password, "view_table")
    http.cookies.clear()
    _sign_in(http, server, reader, password)
    ddb.put_item(TableName=hash_table, Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    token = "eyJwayI6eyJTIjoiYSJ9fQ"  # {"pk":{"S":"a"}}
    assert http.get(server.endpoint + f"/console/tables/{hash_table}/item/?key={token}").status_code == 200
    # Writes are refused by the API's own authorisation, in its words, and nothing changes.
    edit = _post(http, server, f"/console/tables/{hash_table}/item/?key={token}",
                 {"format": "plain", "document": '{"pk": "a", "v": "2"}', "loaded": token})
    assert edit.status_code == 200 and "AccessDeniedException" in edit.text and "dynamodb:UpdateItem" in edit.text
    _post(http, server, f"/console/tables/{hash_table}/delete/", {"confirm_name": hash_table})
    _post(http, server, "/console/tables/create/", {"table_name": "nope-nope", "pk_name": "pk", "pk_type": "S",
                                                    "sk_type": "S", "billing_mode": "PAY_PER_REQUEST",
                                                    "table_class": "STANDARD"})
    assert ddb.get_item(TableName=hash_table, Key={"pk": {"S": "a"}})["Item"]["v"] == {"S": "1"}
    assert "nope-nope" not in ddb.list_tables()["TableNames"]
    ddb.describe_table(TableName=hash_table)
    # Each refusal is in the access log under the administrator's name (written within a second or so).
    # The three refusals may reach the log in different flushes: wait for all of them.
    wanted = [f"('{operation}', 'AccessDeniedException')" for operation in ("UpdateItem", "DeleteTable", "CreateTable")]
    deadline = time.monotonic() + 20
    while True:
        log = manage("shell", "-c", "from storage.models import AccessLogEntry as E; print(sorted(set(E.objects.filter("
                                    f"principal='admin:{reader}').values_list('operation', 'outcome'))))").stdout
        if all(entry in log for entry in wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert all(entry in log for entry in wanted), log


def test_console_refuses_the_plaintext_listener_and_posts_without_csrf(http, server):
    response = http.post(server.endpoint + "/console/login/", data={"username": "x", "password": "y"})
    assert response.status_code == 403
    headers = http.get(server.endpoint + "/console/login/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")
