"""The console's websocket (the live stream tail) over real TLS with a real client:
it outlives the HTTP request deadlines, and it is for the signed-in, same-origin
administrator only."""
from __future__ import annotations

import json
import re
import ssl
import time
import uuid

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from . import testenv
from .conftest import make_client
from .server import manage, start_server


@pytest.fixture
def strict_server(django_db_setup, monkeypatch):
    """A server whose request deadlines are short: a websocket must not be cut by them."""
    monkeypatch.setenv("EXTENDDB_HEADER_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("EXTENDDB_BODY_TIMEOUT_SECONDS", "2")
    srv = start_server(testenv.DATA_DIR, workers=1)
    yield srv
    srv.stop()


def _session_cookie(server) -> str:
    out = manage("createadmin", "--username", f"ws-{uuid.uuid4().hex[:6]}").stdout
    username = re.search(r"ADMIN_USERNAME=(\S+)", out).group(1)
    password = re.search(r"ADMIN_PASSWORD=(\S+)", out).group(1)
    http = requests.Session()
    http.trust_env = False  # the environment's CA bundle must not replace the server's
    http.verify = server.ca_bundle
    http.get(server.endpoint + "/console/login/")
    response = http.post(server.endpoint + "/console/login/", allow_redirects=False,
                         data={"username": username, "password": password, "csrfmiddlewaretoken": http.cookies["csrftoken"]},
                         headers={"Referer": server.endpoint + "/console/login/"})
    assert response.status_code == 302
    return f"sessionid={http.cookies['sessionid']}"


def test_stream_tail_outlives_request_deadlines_and_checks_origin(strict_server, key):
    ddb = make_client(strict_server, key)
    table = f"ws-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    cookie = _session_cookie(strict_server)
    context = ssl.create_default_context(cafile=strict_server.ca_bundle)
    url = strict_server.endpoint.replace("https://", "wss://") + f"/console/ws/streams/{table}/"
    # Another site's page cannot use the administrator's session.
    with pytest.raises(InvalidStatus):
        with connect(url, ssl=context, origin="https://evil.example", additional_headers={"Cookie": cookie},
                     open_timeout=10):
            pass
    with connect(url, ssl=context, origin=strict_server.endpoint, additional_headers={"Cookie": cookie},
                 open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "status"
        time.sleep(4)  # twice the header and body deadlines: the connection must still be open
        ddb.put_item(TableName=table, Item={"pk": {"S": "late"}})
        record = json.loads(ws.recv(timeout=20))
        assert record["type"] == "record" and record["event"] == "INSERT" and record["keys"] == {"pk": {"S": "late"}}
