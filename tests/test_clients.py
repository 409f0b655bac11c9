"""The same endpoint through the AWS CLI and the AWS SDK for JavaScript v3."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from . import testenv

JS_DIR = Path(__file__).resolve().parent / "js"


def cli(server, key, *args: str) -> dict:
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key.access_key_id, AWS_SECRET_ACCESS_KEY=key.secret_access_key,
               AWS_DEFAULT_REGION=testenv.REGION, AWS_CA_BUNDLE=server.ca_bundle, AWS_PAGER="")
    out = subprocess.run([sys.executable, "-m", "awscli", "dynamodb", *args, "--endpoint-url", server.endpoint,
                          "--output", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else {}


def test_aws_cli_round_trip(server, key):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    cli(server, key, "create-table", "--table-name", name,
        "--attribute-definitions", "AttributeName=id,AttributeType=S",
        "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    cli(server, key, "wait", "table-exists", "--table-name", name)
    assert name in cli(server, key, "list-tables")["TableNames"]
    cli(server, key, "put-item", "--table-name", name, "--item", '{"id": {"S": "a"}, "v": {"N": "1"}}')
    got = cli(server, key, "get-item", "--table-name", name, "--key", '{"id": {"S": "a"}}')
    assert got["Item"] == {"id": {"S": "a"}, "v": {"N": "1"}}
    cli(server, key, "delete-table", "--table-name", name)


def run_node(server, key, script: str) -> str:
    """Run a script of tests/js against the server with a fresh table name; its stdout."""
    if not (JS_DIR / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300)
    env = dict(os.environ, ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=key.access_key_id,
               AWS_SECRET_ACCESS_KEY=key.secret_access_key, NODE_EXTRA_CA_CERTS=server.ca_bundle, AWS_REGION=testenv.REGION,
               TABLE=f"js-{uuid.uuid4().hex[:8]}")
    out = subprocess.run(["node", script], cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_sdk_v3(server, key):
    assert "js smoke ok" in run_node(server, key, "smoke.mjs")


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_javascript_sdk_v3_sees_dynamodb_fidelity(server, key):
    assert "js fidelity ok" in run_node(server, key, "fidelity.mjs")
