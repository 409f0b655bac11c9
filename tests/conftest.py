"""Shared fixtures: one migrated database and one real HTTPS server per test run,
boto3 clients signed with a real access key, and throw-away tables."""
from __future__ import annotations

import time
import uuid

import boto3
import pytest
from botocore.config import Config

from . import testenv
from .server import create_key, manage, start_server

CLIENT_CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)


@pytest.fixture(scope="session")
def django_db_setup():
    """The server and the tests share one database, migrated by the real init step."""
    manage("migrate", "--noinput")


@pytest.fixture(scope="session")
def server(django_db_setup):
    srv = start_server(testenv.DATA_DIR)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def key(django_db_setup):
    return create_key("tester")


def poll(check, timeout: float = 20.0, interval: float = 0.25):
    """Wait until check() returns something true (bounded), and return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_job(describe, status_key: str, timeout: float = 90) -> dict:
    """An export's or import's description (describe()) once `status_key` is past IN_PROGRESS."""
    done = poll(lambda: (desc := describe())[status_key] != "IN_PROGRESS" and desc, timeout, 0.2)
    assert done, f"job still IN_PROGRESS after {timeout} s"
    return done


def make_client(server, key, service: str = "dynamodb", **kwargs):
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name=testenv.REGION,
        aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
        verify=server.ca_bundle, config=CLIENT_CONFIG, **kwargs)


@pytest.fixture(scope="session")
def ddb(server, key):
    return make_client(server, key)


@pytest.fixture
def table_name():
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def hash_table(ddb):
    """A table with a string partition key `pk`."""
    table_name = f"h-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield table_name
    _drop(ddb, table_name)


@pytest.fixture
def range_table(ddb):
    """A table with a string partition key `pk` and a number sort key `sk`."""
    table_name = f"r-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield table_name
    _drop(ddb, table_name)


def _drop(ddb, name):
    try:
        ddb.delete_table(TableName=name)
    except ddb.exceptions.ResourceNotFoundException:
        pass
