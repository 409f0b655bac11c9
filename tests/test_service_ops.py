"""DescribeLimits, DescribeEndpoints, and a clear 4xx (never a 500) for every
operation in botocore's model, offered here or not."""
from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from . import testenv
from .conftest import CLIENT_CONFIG, _drop


def test_describe_limits(ddb):
    limits = ddb.describe_limits()
    assert limits["AccountMaxReadCapacityUnits"] == 80000
    assert limits["AccountMaxWriteCapacityUnits"] == 80000
    assert limits["TableMaxReadCapacityUnits"] == 40000
    assert limits["TableMaxWriteCapacityUnits"] == 40000


def test_describe_endpoints_names_the_host_the_client_used(ddb, server):
    endpoints = ddb.describe_endpoints()["Endpoints"]
    assert endpoints == [{"Address": f"127.0.0.1:{server.port}", "CachePeriodInMinutes": 1440}]


# --- every modelled operation ---------------------------------------------------------

TABLE = f"probe-{uuid.uuid4().hex[:10]}"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:000000000000:table/{TABLE}"


def _sample(shape, name: str = ""):
    """A small value of the right shape: required members only, lengths at their minimum."""
    kind = shape.type_name
    if kind == "structure":
        return {m: _sample(shape.members[m], m) for m in shape.required_members}
    if kind == "list":
        return [_sample(shape.member, name) for _ in range(max(shape.metadata.get("min", 0), 1))]
    if kind == "map":
        return {"k": _sample(shape.value, name)}
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        low, high = shape.metadata.get("min", 0), shape.metadata.get("max", 2048)
        if "Arn" in name or "Arn" in shape.name:
            return TABLE_ARN if len(TABLE_ARN) <= high else TABLE_ARN[:high]
        if "Table" in name:
            return TABLE
        return ("abc" * 40)[:max(low, 3)][:high] if high >= 3 else "a" * high
    if kind in ("integer", "long"):
        return max(shape.metadata.get("min", 1), 1)
    if kind in ("double", "float"):
        return 1.0
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return 1_700_000_000
    if kind == "blob":
        return b"a"
    raise AssertionError(kind)


def _operations(service: str):
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return [(service, op) for op in model.operation_names]


@pytest.fixture(scope="module")
def raw_clients(server, key):
    # No client-side validation: the server's answer is what is under test.
    config = CLIENT_CONFIG.merge(Config(parameter_validation=False))
    return {service: boto3.client(service, endpoint_url=server.endpoint, region_name=testenv.REGION,
                                  aws_access_key_id=key.access_key_id, aws_secret_access_key=key.secret_access_key,
                                  verify=server.ca_bundle, config=config)
            for service in ("dynamodb", "dynamodbstreams")}


@pytest.mark.parametrize("service,operation", _operations("dynamodb") + _operations("dynamodbstreams"))
def test_every_operation_answers_clearly(raw_clients, ddb, service, operation):
    client = raw_clients[service]
    model = client.meta.service_model.operation_model(operation)
    params = _sample(model.input_shape) if model.input_shape is not None else {}
    try:
        try:
            client._make_api_call(operation, params)
            return  # offered, and this minimal request was enough
        except ClientError as exc:
            status = exc.response["ResponseMetadata"]["HTTPStatusCode"]
            code, message = exc.response["Error"]["Code"], exc.response["Error"].get("Message")
    finally:
        _drop(ddb, TABLE)  # a probe must leave nothing behind
    assert 400 <= status < 500, (operation, status, code, message)
    documented = {e.name for e in model.error_shapes} | {
        "ValidationException", "UnknownOperationException", "SerializationException", "AccessDeniedException",
        "ResourceNotFoundException"}
    assert code in documented, (operation, code, message)
    if code == "UnknownOperationException":
        # Not offered: the documented answer (docs/compatibility.md).
        assert message == f"The operation {operation} is not supported by this server"
