"""Policy documents name real actions and resources: `putpolicy` (like the console and the
admin) refuses a misspelt action or resource type, saying why; a document stored before
these checks keeps its meaning at run time (real server, boto3)."""
from __future__ import annotations

import json
import uuid

from botocore.exceptions import ClientError

from .conftest import make_client
from .server import create_key, manage


def _put(name: str, document: dict, user: str | None = None):
    args = ["putpolicy", "--name", name, "--file", "-"] + (["--user", user] if user else [])
    return manage(*args, input=json.dumps(document), check=False)


def test_misspelt_actions_and_resource_types_are_refused_with_the_reason(django_db_setup):
    result = _put(f"Typos-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["dynamodb:GetItm", "dynamodb:Qu*", "dynamodb:ExecuteStatement"],
        "Resource": ["arn:aws:dynamodb:*:*:tabel/Wards", "arn:aws:dynamodb:*:*:table/Wards/indx/x"]}]})
    assert result.returncode != 0
    assert "'dynamodb:GetItm' matches no DynamoDB action (did you mean dynamodb:GetItem?)" in result.stderr
    assert "dynamodb:Qu*" not in result.stderr  # a wildcard that matches Query is fine
    assert "dynamodb:PartiQLSelect" in result.stderr  # what IAM checks instead of ExecuteStatement
    assert "'tabel' is no DynamoDB resource type" in result.stderr
    assert "'indx' is nothing a table has" in result.stderr
    fine = _put(f"Fine-{uuid.uuid4().hex[:6]}", {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["dynamodb:Get*", "dynamodb:PartiQLSelect", "dynamodb:GetRecords", "s3:PutObject"],
        "Resource": ["arn:aws:dynamodb:*:*:table/${aws:username}", "arn:aws:dynamodb:*:*:table/W/stream/*",
                     "arn:aws:dynamodb:*:*:table/W/index/by-ward", "arn:aws:s3:::exports/*", "*"]}]})
    assert fine.returncode == 0, fine.stderr


def test_a_document_stored_before_the_checks_means_what_it_meant(server, django_db_setup):
    table = f"legacy-{uuid.uuid4().hex[:8]}"
    user = f"legacy-{uuid.uuid4().hex[:6]}"
    name = f"Legacy-{uuid.uuid4().hex[:6]}"
    assert _put(name, {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*",
                                                              "Resource": "*"}]}, user).returncode == 0
    key = create_key(user)
    manage("detachpolicy", "--policy", "AdministratorAccess", "--user", user, check=False)
    ddb = make_client(server, key)
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    # Written around today's checks, as an older release stored it: one typo beside a real action.
    legacy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItm", "dynamodb:GetItem"],
                                                      "Resource": f"arn:aws:dynamodb:*:*:tabel/{table}"},
                                                     {"Effect": "Allow", "Action": ["dynamodb:GetItm", "dynamodb:GetItem"],
                                                      "Resource": f"arn:aws:dynamodb:*:*:table/{table}"}]}
    manage("shell", "-c", "import json; from accounts.models import Policy; from accounts.keys import bump_generation; "
                          f"Policy.objects.filter(name={name!r}).update(document=json.loads({json.dumps(legacy)!r})); "
                          "bump_generation()")
    import time

    deadline = time.monotonic() + 15
    while True:  # the workers pick the change up within seconds
        try:
            ddb.put_item(TableName=table, Item={"pk": {"S": "x"}})
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "AccessDeniedException"
            break
        assert time.monotonic() < deadline, "the policy change never reached the server"
        time.sleep(0.25)
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "x"}})  # GetItem still allowed
