"""The admin's and the console's key pages, through a real HTTP client and the real
server (a browser's requests: session cookie, CSRF token, redirects): creating or
rotating a key cannot be repeated by a reload or a resubmitted form, the secret is
shown once and never cached, and rotation offers the grace period (issue 14 §6)."""
from __future__ import annotations

import re
import uuid

import pytest
import requests
from botocore.exceptions import ClientError

from .conftest import make_client
from .server import Key, manage


class Browser:
    """A requests session that behaves as a browser does toward Django (CSRF, Referer)."""

    def __init__(self, server) -> None:
        self.server = server
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.server.endpoint + path, timeout=30, verify=self.server.ca_bundle, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return self.http.post(self.server.endpoint + path, timeout=30, verify=self.server.ca_bundle,
                              data={**data, "csrfmiddlewaretoken": self.http.cookies["csrftoken"]},
                              headers={"Referer": self.server.endpoint + path}, **kwargs)

    def sign_in(self, site: str, username: str, password: str) -> None:
        self.get(f"/{site}/login/")
        response = self.post(f"/{site}/login/", {"username": username, "password": password}, allow_redirects=False)
        assert response.status_code == 302, response.text[:500]


def _form(html: str) -> dict[str, str]:
    """The hidden fields (and the selected options) of the page's key form."""
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields.pop("csrfmiddlewaretoken", None)
    return fields


def _count_keys(user: str) -> int:
    out = manage("listkeys", "--user", user).stdout
    return len(out.strip().splitlines()) - 1


@pytest.fixture(scope="module")
def admin_login():
    username, password = f"keys-{uuid.uuid4().hex[:6]}", "a long passphrase for the key pages 41"
    manage("createadmin", "--username", username, "--password-stdin", input=password + "\n")
    return username, password


def _user_pk(name: str) -> str:
    out = manage("shell", "-c", f"from accounts.models import IamUser; print('PK=%d' % IamUser.objects.get(name={name!r}).pk)")
    return re.search(r"PK=(\d+)", out.stdout).group(1)


def _key_pk(key_id: str) -> str:
    out = manage("shell", "-c", f"from accounts.models import AccessKey; print('PK=%d' % AccessKey.objects.get(access_key_id={key_id!r}).pk)")
    return re.search(r"PK=(\d+)", out.stdout).group(1)


def test_admin_key_creation_cannot_be_repeated_by_reload_or_resubmission(server, admin_login):
    user = f"reload-{uuid.uuid4().hex[:6]}"
    manage("createuser", user)
    browser = Browser(server)
    browser.sign_in("admin", *admin_login)
    path = f"/admin/accounts/iamuser/{_user_pk(user)}/create-key/"
    confirm = browser.get(path)
    form = _form(confirm.text)
    assert form.get("once")

    created = browser.post(path, form, allow_redirects=False)
    assert created.status_code == 302  # POST-redirect-GET: the secret is not in the POST's answer
    shown = browser.get(created.headers["Location"])
    assert shown.status_code == 200 and "no-store" in shown.headers["Cache-Control"]
    key_id = re.search(r'id="access-key-id">(\w+)<', shown.text).group(1)
    secret = re.search(r'id="secret-access-key">([^<]+)<', shown.text).group(1)
    with pytest.raises(ClientError) as err:  # the key authenticates (its user has no policy yet)
        make_client(server, Key(key_id, secret)).list_tables()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"

    # A reload of the page that showed it: the secret is gone, no key is made.
    again = browser.get(created.headers["Location"])
    assert secret not in again.text and "shown once" in again.text
    # The browser's "resubmit the form" (back, then confirm again; or a POST replayed).
    replay = browser.post(path, form)
    assert secret not in replay.text and "already submitted" in replay.text
    assert _count_keys(user) == 1
    # The admin's change log names the key, not the secret.
    log = manage("shell", "-c", "from django.contrib.admin.models import LogEntry as L; "
                                "print('\\n'.join(e.change_message for e in L.objects.all()))").stdout
    assert key_id in log and secret not in log


def test_admin_rotation_offers_a_grace_period_and_cannot_be_repeated(server, admin_login):
    user = f"rotadm-{uuid.uuid4().hex[:6]}"
    out = manage("createkey", "--user", user).stdout
    old = Key(re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1), re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1))
    browser = Browser(server)
    browser.sign_in("admin", *admin_login)
    path = f"/admin/accounts/accesskey/{_key_pk(old.access_key_id)}/rotate/"
    confirm = browser.get(path)
    for choice in ("3600", "86400", "604800", "never"):
        assert f'value="{choice}"' in confirm.text
    form = {**_form(confirm.text), "grace": "604800"}
    rotated = browser.post(path, form)
    new_id = re.search(r'id="access-key-id">(\w+)<', rotated.text).group(1)
    new_secret = re.search(r'id="secret-access-key">([^<]+)<', rotated.text).group(1)
    assert "keeps working until" in rotated.text
    # Both keys work: the old one for 7 days.
    make_client(server, old).list_tables()
    make_client(server, Key(new_id, new_secret)).list_tables()
    listed = manage("listkeys", "--user", user).stdout
    assert re.search(rf"^{old.access_key_id}\tActive\t.*\t\d{{4}}-\d\d-\d\dT", listed, re.M), listed
    assert browser.post(path, form).status_code == 200 and _count_keys(user) == 2  # resubmitted: nothing new


def test_console_rotation_with_a_grace_period_and_no_repeat(server, admin_login):
    user = f"rotcon-{uuid.uuid4().hex[:6]}"
    out = manage("createkey", "--user", user).stdout
    old = Key(re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1), re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1))
    browser = Browser(server)
    browser.sign_in("console", *admin_login)
    confirm = browser.get(f"/console/keys/create/?rotates={old.access_key_id}")
    assert 'id="rotate-grace"' in confirm.text
    form = {**_form(confirm.text), "grace": "0"}  # cut it off at once
    shown = browser.post("/console/keys/create/", form)
    assert "no-store" in shown.headers["Cache-Control"]
    new_id = re.search(r'id="access-key-id">(\w+)<', shown.text).group(1)
    new_secret = re.search(r'class="secret" id="secret-access-key">([^<]+)<', shown.text).group(1)
    make_client(server, Key(new_id, new_secret)).list_tables()
    with pytest.raises(ClientError) as err:
        make_client(server, old).list_tables()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    again = browser.post("/console/keys/create/", form)  # the reload of a POST's answer resubmits it
    assert new_secret not in again.text and 'id="already-shown"' in again.text
    assert _count_keys(user) == 2
    listing = browser.get(f"/console/keys/?user={user}").text
    assert "Expired" in listing
