"""Playwright against Debian's chromium (headless), signed in to the real server's console and admin.

Never `playwright install`: the browser is the system's /usr/bin/chromium
(bootstrap.py test installs it when running as root). Screenshots of every
step go to test-artifacts/screenshots/ (CI keeps them).
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .. import testenv
from ..server import ROOT, manage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


# Module scope: sync_playwright keeps an event loop running in this thread while
# it is open, and Django refuses synchronous ORM calls beside a running loop, so
# it must be closed before the rest of the suite runs.
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; "
                    "bootstrap.py test does it when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Admin:
    """A web admin account, made the way an operator makes one."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password


def create_admin(prefix: str = "root") -> Admin:
    username = f"{prefix}-{uuid.uuid4().hex[:8]}"
    out = manage("createadmin", "--username", username).stdout
    return Admin(username, re.search(r"ADMIN_PASSWORD=(\S+)", out).group(1))


@pytest.fixture(scope="session")
def admin_account(django_db_setup) -> Admin:
    return create_admin()


class Shots:
    def __init__(self, test_name: str) -> None:
        self.prefix = test_name
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, step: str) -> None:
        self.count += 1
        page.screenshot(path=str(SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{step}.png"), full_page=True)


@pytest.fixture
def shot(request) -> Shots:
    return Shots(request.node.name.removeprefix("test_"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


def new_page(browser, server, storage_state: str | None = None):
    context = browser.new_context(ignore_https_errors=True, base_url=server.endpoint,
                                  viewport={"width": 1440, "height": 900}, accept_downloads=True,
                                  storage_state=storage_state)
    context.set_default_timeout(15_000)
    return context.new_page()


def watch_errors(page) -> list[str]:
    """Console errors, script errors and 404s of a page: each is a bug (a CSP violation shows here)."""
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None)
    page.console_errors = errors
    return errors


def _watched(request, browser, server, storage_state: str | None = None) -> Iterator:
    page = new_page(browser, server, storage_state)
    watch_errors(page)
    yield page
    if getattr(request.node, "call_failed", False):  # what the page showed when the test failed
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-FAILED.png"), full_page=True)
    page.context.close()


@pytest.fixture
def page(request, browser, server) -> Iterator:
    yield from _watched(request, browser, server)


def submit(page, selector: str) -> None:
    """Click a control that loads a new page, and wait until it has loaded."""
    with page.expect_navigation():
        page.click(selector)


def sign_in(page, admin: Admin, site: str = "admin") -> None:
    """Sign in to /admin/ (Django's model admin) or /console/."""
    page.goto(f"/{site}/login/")
    page.fill("#id_username", admin.username)
    page.fill("#id_password", admin.password)
    submit(page, "input[type=submit]" if site == "admin" else "#sign-in")
    assert page.url.endswith(f"/{site}/"), page.url


def sign_in_console(page, admin: Admin) -> None:
    sign_in(page, admin, "console")


@pytest.fixture(scope="module")
def console_state(browser, server, admin_account, tmp_path_factory) -> str:
    """A signed-in session, made once per module and shared by its pages (each test opens its own)."""
    page = new_page(browser, server)
    sign_in_console(page, admin_account)
    path = str(tmp_path_factory.mktemp("console") / "state.json")
    page.context.storage_state(path=path)
    page.context.close()
    return path


@pytest.fixture
def console(request, browser, server, console_state) -> Iterator:
    """A page signed in to the console as the session's superuser."""
    yield from _watched(request, browser, server, console_state)


def error_code(call) -> str | None:
    """The DynamoDB error code a boto3 call fails with, or None."""
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def client_for(server, key_id: str, secret: str):
    """boto3 signed with a key the browser issued."""
    import boto3

    from ..conftest import CLIENT_CONFIG

    return boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=testenv.REGION,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        verify=server.ca_bundle, config=CLIENT_CONFIG)
