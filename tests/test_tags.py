"""TagResource, UntagResource, ListTagsOfResource and CreateTable's Tags through boto3."""
from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from .conftest import _drop


def error(exc_info):
    return exc_info.value.response["Error"]["Code"], exc_info.value.response["Error"]["Message"]


def arn_of(ddb, name):
    return ddb.describe_table(TableName=name)["Table"]["TableArn"]


def tags_of(ddb, arn):
    return {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def test_tag_untag_list(ddb, hash_table):
    arn = arn_of(ddb, hash_table)
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == []
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a b"},
                                            {"Key": "empty", "Value": ""}, {"Key": "Ünï 7", "Value": "x+y=z@q/r:s"}])
    assert tags_of(ddb, arn) == {"env": "prod", "team": "a b", "empty": "", "Ünï 7": "x+y=z@q/r:s"}
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "dev"}])  # overwrites
    # Removing keys that are not there is fine.
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "nope"])
    assert tags_of(ddb, arn) == {"env": "dev", "empty": "", "Ünï 7": "x+y=z@q/r:s"}
    assert "NextToken" not in ddb.list_tags_of_resource(ResourceArn=arn)


def test_create_table_with_tags_and_delete_forgets_them(ddb, table_name):
    spec = dict(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    ddb.create_table(**spec, Tags=[{"Key": "owner", "Value": "me"}])
    arn = arn_of(ddb, table_name)
    assert tags_of(ddb, arn) == {"owner": "me"}
    ddb.delete_table(TableName=table_name)
    with pytest.raises(ClientError) as err:
        ddb.list_tags_of_resource(ResourceArn=arn)
    assert error(err) == ("ResourceNotFoundException", f"Requested resource not found: ResourceArn: {arn} not found")
    ddb.create_table(**spec)
    try:
        assert tags_of(ddb, arn) == {}
    finally:
        _drop(ddb, table_name)


def test_stream_arn_tags_its_table(ddb, table_name):
    ddb.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    try:
        table = ddb.describe_table(TableName=table_name)["Table"]
        ddb.tag_resource(ResourceArn=table["LatestStreamArn"], Tags=[{"Key": "via", "Value": "stream"}])
        assert tags_of(ddb, table["TableArn"]) == {"via": "stream"}
    finally:
        _drop(ddb, table_name)


def test_create_table_with_too_many_tags_creates_nothing(ddb, table_name):
    with pytest.raises(ClientError) as err:
        ddb.create_table(TableName=table_name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         Tags=[{"Key": str(i), "Value": str(i)} for i in range(51)])
    assert error(err) == ("ValidationException",
                          "Number of Tags exceed the current limit for the provided ResourceArn")
    with pytest.raises(ClientError) as err:
        ddb.describe_table(TableName=table_name)
    assert error(err)[0] == "ResourceNotFoundException"


def test_fifty_tag_limit_is_all_or_nothing(ddb, hash_table):
    arn = arn_of(ddb, hash_table)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(30)])
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "w"} for i in range(20, 50)])
    assert len(tags_of(ddb, arn)) == 50
    with pytest.raises(ClientError) as err:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "changed"}, {"Key": "new", "Value": "v"}])
    assert error(err) == ("ValidationException",
                          "Number of Tags exceed the current limit for the provided ResourceArn")
    tags = tags_of(ddb, arn)
    assert len(tags) == 50 and tags["k0"] == "v" and "new" not in tags


@pytest.mark.parametrize("tags,message", [
    ([], "Atleast one Tag needs to be provided as Input."),
    ([{"Key": "ok", "Value": "#!"}], "The Tag Value provided is invalid, Value: #!"),
    ([{"Key": "a;b", "Value": "ok"}], "The Tag Key provided is invalid, Key: a;b"),
    ([{"Key": "aws:x", "Value": "ok"}], "Tag Key cannot be prefixed with aws:, Key: aws:x"),
    ([{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}],
     "Duplicate Tag Keys provided as input: Duplicate Tag Key found d"),
])
def test_tag_validation_writes_nothing(ddb, hash_table, tags, message):
    arn = arn_of(ddb, hash_table)
    with pytest.raises(ClientError) as err:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "good", "Value": "v"}] + tags if tags else tags)
    assert error(err) == ("ValidationException", message)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert tags_of(ddb, arn) == {}


def test_untag_validation(ddb, hash_table):
    arn = arn_of(ddb, hash_table)
    with pytest.raises(ClientError) as err:
        ddb.untag_resource(ResourceArn=arn, TagKeys=[])
    assert error(err) == ("ValidationException", "Atleast one Tag Key needs to be provided as Input.")
    with pytest.raises(ClientError) as err:
        ddb.untag_resource(ResourceArn=arn, TagKeys=[str(i) for i in range(51)])
    assert error(err) == ("ValidationException",
                          "Number of Tags exceed the current limit for the provided ResourceArn")


def test_arn_errors(ddb, hash_table):
    arn = arn_of(ddb, hash_table)
    region_account = arn.split(":table/")[0]
    cases = [
        ("not-an-arn", "ValidationException",
         "One or more parameter values were invalid: ARNs must start with 'arn:': not-an-arn"),
        ("arn:aws:s3:::bucket", "ValidationException",
         "One or more parameter values were invalid: Provided Arn is not a DynamoDB resource arn: arn:aws:s3:::bucket"),
        (f"{arn}/index/gsi", "ValidationException",
         "One or more parameter values were invalid: Invalid resource arn provided, only table or stream is "
         f"accepted. Provided resource arn: {arn}/index/gsi"),
        (arn.replace(":us-east-1:", ":eu-west-1:"), "ValidationException",
         f"Invalid TableArn: Invalid ResourceArn provided as input {arn.replace(':us-east-1:', ':eu-west-1:')}"),
        (f"{region_account}:table/missing-{uuid.uuid4().hex[:6]}", "ResourceNotFoundException", None),
    ]
    for bad, code, message in cases:
        for call in (lambda: ddb.tag_resource(ResourceArn=bad, Tags=[{"Key": "k", "Value": "v"}]),
                     lambda: ddb.untag_resource(ResourceArn=bad, TagKeys=["k"]),
                     lambda: ddb.list_tags_of_resource(ResourceArn=bad)):
            with pytest.raises(ClientError) as err:
                call()
            got_code, got_message = error(err)
            assert got_code == code, bad
            if message is None:
                assert got_message == f"Requested resource not found: ResourceArn: {bad} not found"
            else:
                assert got_message == message
