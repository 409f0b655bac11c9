#!/usr/bin/env python3
"""Screenshots of the console for docs/admin.md, made from the real product.

    .venv/bin/python tools/screenshots.py          # writes docs/images/console-*.png

starts a throw-away server (SQLite, its own data directory), fills it with a
small hospital's tables, users and keys, signs in with Debian's chromium and
photographs each page docs/admin.md shows. tests/browser/test_screenshots.py
runs capture() in every test run and checks that the guide shows exactly the
pictures this script makes, so the guide cannot drift from the console.
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1360, "height": 860}

# file name -> what it shows (docs/admin.md shows each, and nothing else of console-*)
SHOTS = {
    "console-dashboard.png": "the dashboard",
    "console-tables.png": "the tables",
    "console-create-table.png": "creating a table with an index",
    "console-table.png": "a table's overview and settings",
    "console-items.png": "items in the attribute grid, with the Query builder",
    "console-item-edit.png": "an item edited as plain JSON",
    "console-conflict.png": "an edit refused because the item changed",
    "console-partiql.png": "the PartiQL editor",
    "console-stream-tail.png": "the live stream tail",
    "console-backups.png": "backups and point-in-time recovery",
    "console-users.png": "users and groups",
    "console-policy-editor.png": "the policy editor naming mistakes",
    "console-simulator.png": "the policy simulator",
    "console-key-shown-once.png": "a new access key, shown once",
    "console-access-log.png": "the access log",
    "console-administrators.png": "administrators and lock-outs",
}


def seed(ddb) -> dict[str, str]:
    """A small hospital: tables with items, an index and a stream. Returns the names used."""
    suffix = os.urandom(2).hex()
    patients, wards = f"Patients-{suffix}", f"Wards-{suffix}"
    ddb.create_table(TableName=patients, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "mrn", "AttributeType": "S"},
                                           {"AttributeName": "visit", "AttributeType": "N"},
                                           {"AttributeName": "ward", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "mrn", "KeyType": "HASH"},
                                {"AttributeName": "visit", "KeyType": "RANGE"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by-ward", "Projection": {"ProjectionType": "ALL"},
                                              "KeySchema": [{"AttributeName": "ward", "KeyType": "HASH"}]}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.create_table(TableName=wards, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "ward", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "ward", "KeyType": "HASH"}])
    for i, (mrn, name, ward) in enumerate([("M-1001", "Ada Byron", "ICU"), ("M-1002", "Alan Turing", "B2"),
                                           ("M-1003", "Grace Hopper", "B2"), ("M-1004", "Edsger Dijkstra", "ICU")]):
        for visit in (1, 2):
            item = {"mrn": {"S": mrn}, "visit": {"N": str(visit)}, "name": {"S": name}, "ward": {"S": ward},
                    "age": {"N": str(40 + 7 * i)}, "admitted": {"S": f"2026-11-{10 + i:02d}T08:{visit}0:00Z"}}
            if visit == 1:
                item["allergies"] = {"L": [{"S": "penicillin"}]} if i % 2 else {"L": []}
                item["contact"] = {"M": {"phone": {"S": f"+43 316 55{i}0"}, "consent": {"BOOL": True}}}
            ddb.put_item(TableName=patients, Item=item)
    for ward, beds in (("ICU", 8), ("B2", 24)):
        ddb.put_item(TableName=wards, Item={"ward": {"S": ward}, "beds": {"N": str(beds)}})
    try:
        ddb.get_item(TableName=patients, Key={"mrn": {"N": "1"}})
    except Exception:
        pass  # an application's mistake, for the dashboard's error count
    return {"patients": patients, "wards": wards}


def _go(page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")


def capture(page, ddb, out: Path, names: dict[str, str], manage) -> list[str]:
    """Photograph every page of SHOTS with a signed-in page; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    patients = names["patients"]

    def shot(name: str) -> None:
        page.screenshot(path=str(out / name), full_page=False)
        written.append(name)

    _go(page, "/console/")
    shot("console-dashboard.png")
    _go(page, "/console/tables/")
    shot("console-tables.png")
    _go(page, "/console/tables/create/")
    page.fill("#id_table_name", "Admissions")
    page.fill("#id_pk_name", "ward")
    page.fill("#id_sk_name", "admitted")
    page.fill("input[name='gsi-0-name']", "by-patient")
    page.fill("input[name='gsi-0-hash-0-name']", "mrn")
    page.fill("input[name='gsi-0-range-0-name']", "admitted")
    page.select_option("select[name=stream_view_type]", "NEW_AND_OLD_IMAGES")
    page.fill("input[name=ttl_attribute]", "expires")
    shot("console-create-table.png")
    _go(page, f"/console/tables/{patients}/")
    shot("console-table.png")
    _go(page, f"/console/tables/{patients}/items/?mode=query&index=by-ward&h0=B2")
    page.locator("details.nested > summary").first.click()
    shot("console-items.png")
    token_page = f"/console/tables/{patients}/items/?mode=query&h0=M-1002&r0=1"
    _go(page, token_page)
    page.click("#items tbody tr a.open-item")
    page.wait_for_load_state("networkidle")
    document = json.loads(page.input_value("#document"))
    document["age"] = 55
    page.fill("#document", json.dumps(document, indent=2))
    shot("console-item-edit.png")
    ddb.update_item(TableName=patients, Key={"mrn": {"S": "M-1002"}, "visit": {"N": "1"}},
                    UpdateExpression="SET ward = :w", ExpressionAttributeValues={":w": {"S": "ICU"}})
    page.click("#save-item")
    page.wait_for_selector("#conflict")
    shot("console-conflict.png")
    _go(page, "/console/partiql/")
    page.fill("#statement", f'SELECT mrn, name, ward FROM "{patients}" WHERE ward = ?')
    page.fill("#parameters", '["ICU"]')
    page.click("#run-statement")
    page.wait_for_selector("#results")
    shot("console-partiql.png")
    _go(page, f"/console/streams/{patients}/")
    deadline = time.monotonic() + 20
    while "Watching" not in page.inner_text("#tail-status") and time.monotonic() < deadline:
        time.sleep(0.2)
    ddb.put_item(TableName=patients, Item={"mrn": {"S": "M-1005"}, "visit": {"N": "1"}, "name": {"S": "Barbara Liskov"},
                                           "ward": {"S": "B2"}})
    ddb.update_item(TableName=patients, Key={"mrn": {"S": "M-1005"}, "visit": {"N": "1"}},
                    UpdateExpression="SET ward = :w", ExpressionAttributeValues={":w": {"S": "ICU"}})
    page.wait_for_selector("#tail-records tbody tr:nth-child(2)", timeout=20_000)
    shot("console-stream-tail.png")
    ddb.create_backup(TableName=patients, BackupName="before-migration")
    ddb.update_continuous_backups(TableName=patients,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    _go(page, f"/console/backups/?table={patients}")
    shot("console-backups.png")
    _go(page, "/console/users/")
    shot("console-users.png")
    _go(page, "/console/policies/new/")
    page.fill("#policy-name", "WardsReadOnly")
    page.fill("#policy-document", json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["dynamodb:GetItm", "dynamodb:Query"],
        "Resource": "arn:aws:dynamodb:*:*:tabel/Wards"}]}, indent=2))
    page.wait_for_selector("#problems li")
    shot("console-policy-editor.png")
    _go(page, f"/console/policies/simulate/?user=ward-app&action=dynamodb%3APutItem&table={patients}&key=M-1001")
    shot("console-simulator.png")
    _go(page, "/console/keys/create/?user=ward-app")
    page.click("#confirm-create-key")
    page.wait_for_selector("#secret-access-key")
    shot("console-key-shown-once.png")
    time.sleep(1.5)  # the access log is written in batches, about once a second
    _go(page, "/console/access-log/")
    shot("console-access-log.png")
    _go(page, "/console/administrators/")
    shot("console-administrators.png")
    return written


def seed_accounts(manage) -> None:
    """An application user with a policy, and a group, as an operator would make them."""
    manage("shell", "-c", (
        "from accounts.models import Group, IamUser, Policy\n"
        "u, _ = IamUser.objects.get_or_create(name='ward-app')\n"
        "p, _ = Policy.objects.get_or_create(name='PatientsReadWrite', defaults={'document': {"
        "'Version': '2012-10-17', 'Statement': [{'Sid': 'Patients', 'Effect': 'Allow', "
        "'Action': ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem'], "
        "'Resource': ['arn:aws:dynamodb:*:*:table/Patients-*', 'arn:aws:dynamodb:*:*:table/Patients-*/index/*']}]}})\n"
        "u.policies.add(p)\n"
        "g, _ = Group.objects.get_or_create(name='clinicians')\n"
        "g.users.add(u)\n"))


def main() -> None:
    data = tempfile.mkdtemp(prefix="extenddb-screenshots-")
    os.environ.update(EXTENDDB_DATA_DIR=data, DATABASE_URL=f"sqlite:///{data}/extenddb.sqlite3")
    sys.path.insert(0, str(ROOT))
    import boto3
    from playwright.sync_api import sync_playwright

    from tests.server import create_key, manage, start_server

    manage("migrate", "--noinput")
    out = manage("createadmin", "--username", "admin").stdout
    password = re.search(r"ADMIN_PASSWORD=(\S+)", out).group(1)
    key = create_key("hospital-app")
    seed_accounts(manage)
    server = start_server(data, workers=1)
    try:
        ddb = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                           aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                           verify=server.ca_bundle)
        names = seed(ddb)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
            context = browser.new_context(ignore_https_errors=True, base_url=server.endpoint, viewport=VIEWPORT)
            page = context.new_page()
            page.goto("/console/login/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", password)
            page.click("#sign-in")
            page.wait_for_url("**/console/")
            written = capture(page, ddb, IMAGES, names, manage)
            browser.close()
        print("\n".join(str(IMAGES / name) for name in written))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
