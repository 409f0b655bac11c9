"""`manage.py serve` options: the loopback-only plaintext listener and a
certificate pair supplied by the operator."""
from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import pytest

from extenddb_site.tls import ensure_self_signed

from . import testenv
from .conftest import CLIENT_CONFIG
from .server import ROOT, free_port, start_server


def test_plaintext_listener_serves_loopback(key):
    port = free_port()
    srv = start_server(testenv.DATA_DIR, "--plaintext-port", str(port), workers=1)
    try:
        client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name=testenv.REGION,
                              aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                              config=CLIENT_CONFIG)
        deadline = time.monotonic() + 30
        while True:
            try:
                assert "TableNames" in client.list_tables()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        srv.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org"])
def test_plaintext_listener_refuses_other_addresses(host):
    out = subprocess.run([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(free_port()),
                          "--plaintext-port", str(free_port()), "--plaintext-host", host],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "loopback only" in out.stderr


def test_operator_supplied_certificate(key):
    with tempfile.TemporaryDirectory() as other:
        cert, private_key = ensure_self_signed(Path(other), ["127.0.0.1"])
        srv = start_server(testenv.DATA_DIR, "--cert", str(cert), "--key", str(private_key), workers=1,
                           ca=str(cert))
        try:
            client = boto3.client("dynamodb", endpoint_url=srv.endpoint, region_name=testenv.REGION,
                                  aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                                  verify=str(cert), config=CLIENT_CONFIG)
            assert "TableNames" in client.list_tables()
        finally:
            srv.stop()
