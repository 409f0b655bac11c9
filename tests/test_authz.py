"""IAM policies enforced on every request, end to end: real server, boto3 over HTTPS.

Users, keys and policies are made with the management commands, run in this
process (same database and data directory as the server); every change bumps
the shared generation counter, so the server's workers see it at once.
"""
from __future__ import annotations

import io
import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import make_client
from .server import Key

ACCOUNT, REGION = "000000000000", "us-east-1"


def off_loop(fn, *args, **kwargs):
    """Run fn in a fresh thread: ORM calls refuse to run where an event loop is running
    (a session-wide Playwright fixture leaves one in the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def table_arn(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def denied(user: str, action: str, resource: str, explicit: bool = False) -> str:
    head = f"User: arn:aws:iam::{ACCOUNT}:user/{user} is not authorized to perform: {action} on resource: {resource} "
    if explicit:
        return head + "with an explicit deny in an identity-based policy"
    return head + f"because no identity-based policy allows the {action} action"


@pytest.fixture(scope="module")
def admin(django_db_setup, django_db_blocker):
    """Runs management commands in-process (fast) with database access."""
    from django.core.management import call_command

    def run(*args: str, stdin: str | None = None) -> str:
        out = io.StringIO()
        with django_db_blocker.unblock():
            if stdin is not None:
                import sys

                saved, sys.stdin = sys.stdin, io.StringIO(stdin)
                try:
                    off_loop(call_command, *args, stdout=out)
                finally:
                    sys.stdin = saved
            else:
                off_loop(call_command, *args, stdout=out)
        return out.getvalue()
    return run


def new_key(admin, user: str, *options: str) -> Key:
    out = admin("createkey", "--user", user, *options)
    fields = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return Key(fields["AWS_ACCESS_KEY_ID"], fields["AWS_SECRET_ACCESS_KEY"])


def put_policy(admin, name: str, statements: list[dict], **target: str) -> None:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    args = ["putpolicy", "--name", name, "--file", "-"]
    for option, value in target.items():
        args += [f"--{option}", value]
    admin(*args, stdin=document)


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as err:
        call()
    response = err.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def create(ddb, name: str, gsi: bool = False) -> None:
    extra = {}
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if gsi:
        attrs.append({"AttributeName": "g", "AttributeType": "S"})
        extra["GlobalSecondaryIndexes"] = [{
            "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"}}]
    ddb.create_table(TableName=name, AttributeDefinitions=attrs,
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST", **extra)


@pytest.fixture(scope="module")
def world(server, ddb, admin):
    """A user `u` allowed everything on its own two tables (not their indexes); one other table."""
    tag = uuid.uuid4().hex[:8]
    user = f"u{tag}"
    own, own2, other = f"{user}-a", f"{user}-b", f"other-{tag}"
    create(ddb, own, gsi=True)
    create(ddb, own2)
    create(ddb, other)
    for table in (own, other):
        ddb.put_item(TableName=table, Item={"pk": {"S": "seed"}, "g": {"S": "x"}})
    key = new_key(admin, user, "--no-policy")
    put_policy(admin, f"own-{tag}", [{
        "Sid": "OwnTables", "Effect": "Allow", "Action": "dynamodb:*",
        "Resource": ["arn:aws:dynamodb:*:*:table/${aws:username}-a", "arn:aws:dynamodb:*:*:table/${aws:username}-b"],
    }], user=user)
    client = make_client(server, key)
    yield {"user": user, "own": own, "own2": own2, "other": other, "client": client, "tag": tag, "key": key}
    for table in (own, own2, other):
        ddb.delete_table(TableName=table)


def test_own_table_allowed_other_denied_with_dynamodb_message(world):
    c, user = world["client"], world["user"]
    c.put_item(TableName=world["own"], Item={"pk": {"S": "1"}})
    assert c.get_item(TableName=world["own"], Key={"pk": {"S": "1"}})["Item"] == {"pk": {"S": "1"}}
    code, message, status = error_of(lambda: c.get_item(TableName=world["other"], Key={"pk": {"S": "seed"}}))
    assert (code, status) == ("AccessDeniedException", 400)
    assert message == denied(user, "dynamodb:GetItem", table_arn(world["other"]))
    code, message, _ = error_of(lambda: c.put_item(TableName=world["other"], Item={"pk": {"S": "x"}}))
    assert message == denied(user, "dynamodb:PutItem", table_arn(world["other"]))
    # A table ARN in TableName is checked the same way.
    code, message, _ = error_of(lambda: c.get_item(TableName=table_arn(world["other"]), Key={"pk": {"S": "seed"}}))
    assert message == denied(user, "dynamodb:GetItem", table_arn(world["other"]))


def test_scan(world):
    c = world["client"]
    assert c.scan(TableName=world["own"])["Count"] >= 1
    _, message, _ = error_of(lambda: c.scan(TableName=world["other"]))
    assert message == denied(world["user"], "dynamodb:Scan", table_arn(world["other"]))


def test_query_on_an_index_needs_the_index_arn(world, admin):
    c, user, own = world["client"], world["user"], world["own"]
    query = dict(TableName=own, IndexName="byG", KeyConditionExpression="g = :g",
                 ExpressionAttributeValues={":g": {"S": "x"}})
    assert c.query(TableName=own, KeyConditionExpression="pk = :p",
                   ExpressionAttributeValues={":p": {"S": "seed"}})["Count"] == 1
    _, message, _ = error_of(lambda: c.query(**query))
    assert message == denied(user, "dynamodb:Query", table_arn(own) + "/index/byG")
    put_policy(admin, f"idx-{world['tag']}", [{
        "Effect": "Allow", "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:*:*:table/${aws:username}-a/index/*",
    }], user=user)
    assert c.query(**query)["Count"] == 1


def test_batch_get_and_write_check_every_table(world, ddb):
    c, user, own, other = world["client"], world["user"], world["own"], world["other"]
    _, message, _ = error_of(lambda: c.batch_get_item(RequestItems={
        own: {"Keys": [{"pk": {"S": "seed"}}]}, other: {"Keys": [{"pk": {"S": "seed"}}]}}))
    assert message == denied(user, "dynamodb:BatchGetItem", table_arn(other))
    got = c.batch_get_item(RequestItems={own: {"Keys": [{"pk": {"S": "seed"}}]}})
    assert len(got["Responses"][own]) == 1

    _, message, _ = error_of(lambda: c.batch_write_item(RequestItems={
        own: [{"PutRequest": {"Item": {"pk": {"S": "bw"}}}}],
        other: [{"PutRequest": {"Item": {"pk": {"S": "bw"}}}}]}))
    assert message == denied(user, "dynamodb:BatchWriteItem", table_arn(other))
    assert "Item" not in ddb.get_item(TableName=own, Key={"pk": {"S": "bw"}})  # nothing written
    c.batch_write_item(RequestItems={own: [{"PutRequest": {"Item": {"pk": {"S": "bw"}}}}]})
    assert "Item" in ddb.get_item(TableName=own, Key={"pk": {"S": "bw"}})


def test_transact_write_checks_each_item_action(world, ddb):
    c, user, own, other = world["client"], world["user"], world["own"], world["other"]
    _, message, _ = error_of(lambda: c.transact_write_items(TransactItems=[
        {"Put": {"TableName": own, "Item": {"pk": {"S": "tx"}}}},
        {"ConditionCheck": {"TableName": other, "Key": {"pk": {"S": "seed"}},
                            "ConditionExpression": "attribute_exists(pk)"}}]))
    assert message == denied(user, "dynamodb:ConditionCheckItem", table_arn(other))
    assert "Item" not in ddb.get_item(TableName=own, Key={"pk": {"S": "tx"}})
    _, message, _ = error_of(lambda: c.transact_write_items(TransactItems=[
        {"Delete": {"TableName": other, "Key": {"pk": {"S": "seed"}}}}]))
    assert message == denied(user, "dynamodb:DeleteItem", table_arn(other))
    c.transact_write_items(TransactItems=[{"Put": {"TableName": own, "Item": {"pk": {"S": "tx"}}}},
                                          {"Update": {"TableName": world["own2"], "Key": {"pk": {"S": "tx"}},
                                                      "UpdateExpression": "SET n = :one",
                                                      "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
    assert "Item" in ddb.get_item(TableName=own, Key={"pk": {"S": "tx"}})
    _, message, _ = error_of(lambda: c.transact_get_items(TransactItems=[
        {"Get": {"TableName": other, "Key": {"pk": {"S": "seed"}}}}]))
    assert message == denied(user, "dynamodb:GetItem", table_arn(other))


def test_unscoped_operations_and_explicit_deny(world, admin):
    c, user = world["client"], world["user"]
    _, message, _ = error_of(lambda: c.list_tables())
    assert message == denied(user, "dynamodb:ListTables", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/*")
    put_policy(admin, f"nodelete-{world['tag']}", [{
        "Effect": "Deny", "Action": ["dynamodb:DeleteItem", "dynamodb:DeleteTable"], "Resource": "*"}], user=user)
    _, message, _ = error_of(lambda: c.delete_item(TableName=world["own2"], Key={"pk": {"S": "tx"}}))
    assert message == denied(user, "dynamodb:DeleteItem", table_arn(world["own2"]), explicit=True)
    c.put_item(TableName=world["own2"], Item={"pk": {"S": "still-writable"}})


def test_leading_keys_tenant_policy(server, ddb, admin):
    tag = uuid.uuid4().hex[:8]
    shared = f"shared-{tag}"
    create(ddb, shared)
    try:
        tenant = f"tenant{tag}"
        key = new_key(admin, tenant, "--no-policy")
        put_policy(admin, f"tenant-{tag}", [{
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:BatchWriteItem"],
            "Resource": table_arn(shared),
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}},
        }], user=tenant)
        c = make_client(server, key)
        c.put_item(TableName=shared, Item={"pk": {"S": tenant}, "v": {"S": "mine"}})
        assert c.get_item(TableName=shared, Key={"pk": {"S": tenant}})["Item"]["v"] == {"S": "mine"}
        assert c.query(TableName=shared, KeyConditionExpression="pk = :p",
                       ExpressionAttributeValues={":p": {"S": tenant}})["Count"] == 1
        deny = denied(tenant, "dynamodb:GetItem", table_arn(shared))
        assert error_of(lambda: c.get_item(TableName=shared, Key={"pk": {"S": "someone-else"}}))[1] == deny
        assert error_of(lambda: c.put_item(TableName=shared, Item={"pk": {"S": "someone-else"}}))[1] == \
            denied(tenant, "dynamodb:PutItem", table_arn(shared))
        assert error_of(lambda: c.query(TableName=shared, KeyConditionExpression="pk = :p",
                                        ExpressionAttributeValues={":p": {"S": "someone-else"}}))[1] == \
            denied(tenant, "dynamodb:Query", table_arn(shared))
        # A batch is allowed only if every partition key it touches is the tenant's.
        assert error_of(lambda: c.batch_write_item(RequestItems={shared: [
            {"PutRequest": {"Item": {"pk": {"S": tenant}}}},
            {"PutRequest": {"Item": {"pk": {"S": "someone-else"}}}}]}))[0] == "AccessDeniedException"
        assert "Item" not in ddb.get_item(TableName=shared, Key={"pk": {"S": "someone-else"}})
    finally:
        ddb.delete_table(TableName=shared)


def test_group_policies_apply_and_changes_take_effect_within_seconds(server, admin):
    tag = uuid.uuid4().hex[:8]
    user = f"g{tag}"
    key = new_key(admin, user, "--no-policy")
    c = make_client(server, key)
    assert error_of(c.list_tables)[0] == "AccessDeniedException"
    put_policy(admin, f"list-{tag}", [{"Effect": "Allow", "Action": "dynamodb:List*", "Resource": "*"}])
    admin("creategroup", f"listers{tag}", "--policy", f"list-{tag}", "--user", user)
    probes = [make_client(server, key) for _ in range(4)]  # connections of their own: both workers

    within_bound(lambda: all(code_of(p.list_tables) == "" for p in probes))
    admin("addtogroup", "--group", f"listers{tag}", "--user", user, "--remove")
    within_bound(lambda: all(code_of(p.list_tables) == "AccessDeniedException" for p in probes))


def code_of(call) -> str:
    """The error code of a call, "" if it succeeds."""
    try:
        call()
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return ""


def within_bound(check, bound: float = 1.0) -> None:
    """Changes reach every worker of every server within the cache generation's bound
    (docs/operations.md: 1 s); a little room for the probes' own round trips."""
    deadline = time.monotonic() + bound + 1.0
    while not check():
        assert time.monotonic() < deadline, "the change did not take effect within the bound"
        time.sleep(0.02)


def test_deactivated_key_fails_within_seconds(server, admin):
    key = new_key(admin, f"d{uuid.uuid4().hex[:8]}")  # a new user: AdministratorAccess by default
    probes = [make_client(server, key) for _ in range(4)]
    for c in probes:
        assert "TableNames" in c.list_tables()
    admin("deactivatekey", key.access_key_id)
    within_bound(lambda: all(code_of(c.list_tables) == "UnrecognizedClientException" for c in probes))
    assert [code_of(c.list_tables) for c in probes] == ["UnrecognizedClientException"] * 4  # and stays so
    admin("activatekey", key.access_key_id)
    within_bound(lambda: all(code_of(c.list_tables) == "" for c in probes))


def test_commands_refuse_broken_policies(admin):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"Statement\[0\]\.Effect"):
        admin("putpolicy", "--name", "broken", "--file", "-",
              stdin='{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "*", "Resource": "*"}]}')
    with pytest.raises(CommandError, match="No such policy: nope"):
        admin("createkey", "--user", f"x{uuid.uuid4().hex[:8]}", "--policy", "nope")
    with pytest.raises(CommandError, match="built-in"):
        admin("putpolicy", "--name", "AdministratorAccess", "--file", "-",
              stdin='{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}')


def test_streams_partiql_and_tags_are_checked_on_their_resources(server, ddb, admin):
    tag = uuid.uuid4().hex[:8]
    mine, theirs = f"s{tag}-mine", f"s{tag}-theirs"
    for name in (mine, theirs):
        ddb.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    try:
        user = f"r{tag}"
        key = new_key(admin, user, "--no-policy")
        put_policy(admin, f"streams-{tag}", [{
            "Effect": "Allow",
            "Action": ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords",
                       "dynamodb:ListStreams", "dynamodb:PartiQLSelect", "dynamodb:ListTagsOfResource"],
            "Resource": [table_arn(mine), table_arn(mine) + "/stream/*"],
        }, {"Effect": "Allow", "Action": "dynamodb:ListStreams", "Resource": "*"}], user=user)
        streams = make_client(server, key, "dynamodbstreams")
        client = make_client(server, key)
        admin_streams = make_client(server, _admin_key(admin), "dynamodbstreams")
        arns = {s["TableName"]: s["StreamArn"] for s in streams.list_streams()["Streams"]}
        mine_arn, theirs_arn = arns[mine], arns[theirs]

        shard = streams.describe_stream(StreamArn=mine_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=mine_arn, ShardId=shard,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        assert len(streams.get_records(ShardIterator=it)["Records"]) == 1
        assert error_of(lambda: streams.describe_stream(StreamArn=theirs_arn))[1] == \
            denied(user, "dynamodb:DescribeStream", theirs_arn)
        # An iterator of a forbidden stream, relabelled with an allowed stream's ARN, is still refused.
        their_shard = admin_streams.describe_stream(StreamArn=theirs_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        their_it = admin_streams.get_shard_iterator(StreamArn=theirs_arn, ShardId=their_shard,
                                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        forged = mine_arn + "|" + their_it.split("|", 1)[1]
        assert error_of(lambda: streams.get_records(ShardIterator=forged))[1] == \
            denied(user, "dynamodb:GetRecords", theirs_arn)

        assert client.execute_statement(Statement=f'SELECT * FROM "{mine}"')["Items"] == [{"pk": {"S": "a"}}]
        assert error_of(lambda: client.execute_statement(Statement=f'SELECT * FROM "{theirs}"'))[1] == \
            denied(user, "dynamodb:PartiQLSelect", table_arn(theirs))
        assert error_of(lambda: client.execute_statement(
            Statement=f"INSERT INTO \"{mine}\" VALUE {{'pk': 'b'}}"))[1] == \
            denied(user, "dynamodb:PartiQLInsert", table_arn(mine))

        assert client.list_tags_of_resource(ResourceArn=table_arn(mine))["Tags"] == []
        assert error_of(lambda: client.list_tags_of_resource(ResourceArn=table_arn(theirs)))[1] == \
            denied(user, "dynamodb:ListTagsOfResource", table_arn(theirs))
    finally:
        for name in (mine, theirs):
            ddb.delete_table(TableName=name)


_ADMIN_KEYS: dict[str, Key] = {}


def _admin_key(admin) -> Key:
    if "k" not in _ADMIN_KEYS:
        _ADMIN_KEYS["k"] = new_key(admin, f"adm{uuid.uuid4().hex[:8]}")
    return _ADMIN_KEYS["k"]


def test_broken_policy_is_refused_by_the_model(django_db_setup, django_db_blocker):
    from django.core.exceptions import ValidationError

    from accounts.models import Policy

    with django_db_blocker.unblock():
        with pytest.raises(ValidationError, match="exactly one of Resource or NotResource"):
            off_loop(Policy(name=f"bad{uuid.uuid4().hex[:8]}",
                            document={"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}).save)
        with pytest.raises(ValidationError, match="Version"):
            off_loop(Policy(name="x", document={"Version": "2020-01-01", "Statement": []}).full_clean)


def test_source_ip_condition_and_replacing_a_policy(server, admin):
    tag = uuid.uuid4().hex[:8]
    user = f"ip{tag}"
    key = new_key(admin, user, "--no-policy")
    c = make_client(server, key)

    def allow_from(cidr: str) -> None:
        put_policy(admin, f"ip-{tag}", [{"Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*",
                                         "Condition": {"IpAddress": {"aws:SourceIp": cidr},
                                                       "Bool": {"aws:SecureTransport": "true"}}}], user=user)

    allow_from("127.0.0.0/8")
    for _ in range(3):
        assert "TableNames" in c.list_tables()
    allow_from("10.0.0.0/8")  # replaced in place: every worker must drop the compiled old one
    for _ in range(3):
        assert error_of(c.list_tables)[1] == denied(user, "dynamodb:ListTables", table_arn("*"))
