"""The IAM policy evaluator and validator (accounts.policy, accounts.policy_validation)."""
from __future__ import annotations

import pytest

from accounts.policy import Decision, compile_policies, make_context
from accounts.policy_validation import validate_policy_document

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/"
ALLOW, IMPLICIT, EXPLICIT = Decision.ALLOW, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY


def policy(*statements, version="2012-10-17"):
    return {"Version": version, "Statement": list(statements)}


def allow(action="*", resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(documents, action="dynamodb:GetItem", resource=ARN + "T", **context):
    if isinstance(documents, dict):
        documents = [documents]
    compiled = compile_policies([(f"p{i}", d) for i, d in enumerate(documents)])
    base = {"aws:username": "alice"}
    base.update({k.replace("__", ":"): v for k, v in context.items()})
    return compiled.evaluate(action, resource, make_context(base)).decision


def cond(operator, key, values, **kw):
    """Decision of an Allow-all statement with one condition, under context kw."""
    return decide(policy(allow(Condition={operator: {key: values}})), **kw)


# --- basic decisions ------------------------------------------------------------
def test_no_policies_denies_everything():
    assert decide([]) is IMPLICIT


def test_allow_all():
    assert decide(policy(allow())) is ALLOW


def test_explicit_deny_wins_over_allow_in_any_order_and_policy():
    assert decide(policy(allow(), deny("dynamodb:GetItem"))) is EXPLICIT
    assert decide([policy(deny("dynamodb:Get*")), policy(allow())]) is EXPLICIT
    assert decide([policy(allow()), policy(deny("dynamodb:PutItem"))]) is ALLOW


def test_statement_object_not_list():
    assert decide({"Version": "2012-10-17", "Statement": allow()}) is ALLOW


# --- actions --------------------------------------------------------------------
@pytest.mark.parametrize("pattern,action,expected", [
    ("dynamodb:GetItem", "dynamodb:GetItem", ALLOW),
    ("dynamodb:getitem", "dynamodb:GetItem", ALLOW),  # case-insensitive
    ("DynamoDB:GETITEM", "dynamodb:GetItem", ALLOW),
    ("dynamodb:Get*", "dynamodb:GetItem", ALLOW),
    ("dynamodb:Get*", "dynamodb:GetRecords", ALLOW),
    ("dynamodb:Get*", "dynamodb:PutItem", IMPLICIT),
    ("dynamodb:*", "dynamodb:Scan", ALLOW),
    ("*", "dynamodb:Scan", ALLOW),
    ("dynamodb:?etItem", "dynamodb:GetItem", ALLOW),
    ("dynamodb:GetItem", "dynamodb:GetItems", IMPLICIT),  # whole-string match
    ("s3:*", "dynamodb:GetItem", IMPLICIT),
])
def test_action_wildcards(pattern, action, expected):
    assert decide(policy(allow(pattern)), action=action) is expected


def test_action_list():
    doc = policy(allow(["dynamodb:GetItem", "dynamodb:Query"]))
    assert decide(doc, action="dynamodb:Query") is ALLOW
    assert decide(doc, action="dynamodb:Scan") is IMPLICIT


def test_not_action():
    doc = policy({"Effect": "Allow", "NotAction": ["dynamodb:Delete*"], "Resource": "*"})
    assert decide(doc, action="dynamodb:GetItem") is ALLOW
    assert decide(doc, action="dynamodb:DeleteItem") is IMPLICIT
    deny_doc = [policy(allow()), policy({"Effect": "Deny", "NotAction": "dynamodb:Get*", "Resource": "*"})]
    assert decide(deny_doc, action="dynamodb:GetItem") is ALLOW
    assert decide(deny_doc, action="dynamodb:PutItem") is EXPLICIT


# --- resources ------------------------------------------------------------------
@pytest.mark.parametrize("pattern,resource,expected", [
    (ARN + "T", ARN + "T", ALLOW),
    (ARN + "T", ARN + "t", IMPLICIT),  # ARNs are case-sensitive
    (ARN + "T", ARN + "T2", IMPLICIT),
    (ARN + "T*", ARN + "T2", ALLOW),
    (ARN + "T/index/*", ARN + "T/index/byDate", ALLOW),
    (ARN + "T", ARN + "T/index/byDate", IMPLICIT),
    (ARN + "T/stream/*", ARN + "T/stream/2026-01-01T00:00:00.000", ALLOW),
    (ARN + "T/backup/*", ARN + "T/backup/01700000000000-abcdef12", ALLOW),
    (ARN + "T/export/*", ARN + "T/export/01700000000000-abcdef12", ALLOW),
    ("arn:aws:dynamodb:*:*:table/T", ARN + "T", ALLOW),
    ("arn:aws:dynamodb:eu-west-1:*:table/T", ARN + "T", IMPLICIT),
    ("arn:aws:dynamodb:us-east-1:000000000000:table/?", ARN + "T", ALLOW),
    ("*", ARN + "T", ALLOW),
])
def test_resource_wildcards(pattern, resource, expected):
    assert decide(policy(allow("dynamodb:*", pattern)), resource=resource) is expected


def test_not_resource():
    doc = policy({"Effect": "Allow", "Action": "*", "NotResource": ARN + "Secret*"})
    assert decide(doc, resource=ARN + "Public") is ALLOW
    assert decide(doc, resource=ARN + "Secrets") is IMPLICIT
    denied = [policy(allow()), policy({"Effect": "Deny", "Action": "*", "NotResource": ARN + "Mine"})]
    assert decide(denied, resource=ARN + "Mine") is ALLOW
    assert decide(denied, resource=ARN + "Other") is EXPLICIT


# --- policy variables -------------------------------------------------------------
def test_username_variable_in_resource():
    doc = policy(allow("dynamodb:*", ARN + "${aws:username}-*"))
    assert decide(doc, resource=ARN + "alice-orders") is ALLOW
    assert decide(doc, resource=ARN + "bob-orders") is IMPLICIT


def test_variable_value_is_literal_not_a_wildcard():
    doc = policy(allow("dynamodb:*", ARN + "${aws:username}"))
    assert decide(doc, resource=ARN + "a*", aws__username="a*") is ALLOW
    assert decide(doc, resource=ARN + "abc", aws__username="a*") is IMPLICIT


def test_variable_escapes_and_default():
    assert decide(policy(allow("*", ARN + "x${*}")), resource=ARN + "x*") is ALLOW
    assert decide(policy(allow("*", ARN + "x${*}")), resource=ARN + "xy") is IMPLICIT
    doc = policy(allow("*", ARN + "${aws:PrincipalTag/team, 'shared'}"))
    assert decide(doc, resource=ARN + "shared") is ALLOW


def test_missing_variable_matches_nothing():
    doc = policy(allow("*", ARN + "${aws:PrincipalTag/team}"))
    assert decide(doc, resource=ARN + "${aws:PrincipalTag/team}") is IMPLICIT
    assert decide(doc, resource=ARN + "") is IMPLICIT


def test_variables_only_in_2012_language():
    doc = policy(allow("*", ARN + "${aws:username}"), version="2008-10-17")
    assert decide(doc, resource=ARN + "alice") is IMPLICIT
    assert decide(doc, resource=ARN + "${aws:username}") is ALLOW


def test_variable_in_condition_value():
    doc = policy(allow(Condition={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}))
    assert decide(doc, dynamodb__LeadingKeys=["alice"]) is ALLOW
    assert decide(doc, dynamodb__LeadingKeys=["bob"]) is IMPLICIT


# --- string operators -------------------------------------------------------------
@pytest.mark.parametrize("operator,values,value,expected", [
    ("StringEquals", "a", "a", ALLOW),
    ("StringEquals", "a", "A", IMPLICIT),
    ("StringEquals", ["x", "a"], "a", ALLOW),  # values are ORed
    ("StringNotEquals", "a", "b", ALLOW),
    ("StringNotEquals", "a", "a", IMPLICIT),
    ("StringNotEquals", ["a", "b"], "b", IMPLICIT),  # negated values are NORed
    ("StringEqualsIgnoreCase", "ABC", "abc", ALLOW),
    ("StringEqualsIgnoreCase", "ABC", "abd", IMPLICIT),
    ("StringNotEqualsIgnoreCase", "ABC", "abc", IMPLICIT),
    ("StringNotEqualsIgnoreCase", "ABC", "xyz", ALLOW),
    ("StringLike", "ab*", "abc", ALLOW),
    ("StringLike", "a?c", "abc", ALLOW),
    ("StringLike", "a?c", "abbc", IMPLICIT),
    ("StringLike", "ab*", "Abc", IMPLICIT),
    ("StringNotLike", "ab*", "xyz", ALLOW),
    ("StringNotLike", ["x*", "ab*"], "abc", IMPLICIT),
    ("StringEquals", "a*", "abc", IMPLICIT),  # no wildcards in StringEquals
    ("ArnLike", "arn:aws:iam::*:user/a*", "arn:aws:iam::000000000000:user/alice", ALLOW),
    ("ArnEquals", "arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/alice", ALLOW),
    ("ArnLike", "arn:aws:iam::*:user/b*", "arn:aws:iam::000000000000:user/alice", IMPLICIT),
    ("ArnNotLike", "arn:aws:iam::*:user/b*", "arn:aws:iam::000000000000:user/alice", ALLOW),
    ("ArnNotEquals", "arn:aws:iam::000000000000:user/alice", "arn:aws:iam::000000000000:user/alice", IMPLICIT),
])
def test_string_and_arn_operators(operator, values, value, expected):
    assert cond(operator, "test:key", values, test__key=value) is expected


@pytest.mark.parametrize("operator,expected", [
    ("StringEquals", IMPLICIT), ("StringLike", IMPLICIT), ("NumericEquals", IMPLICIT),
    ("StringNotEquals", ALLOW), ("StringNotLike", ALLOW), ("NotIpAddress", ALLOW),
    ("StringEqualsIfExists", ALLOW), ("NumericLessThanIfExists", ALLOW),
])
def test_missing_key(operator, expected):
    value = "10.0.0.0/8" if "Ip" in operator else "1"
    assert cond(operator, "test:absent", value) is expected


def test_if_exists_applies_when_present():
    assert cond("StringEqualsIfExists", "test:key", "a", test__key="b") is IMPLICIT
    assert cond("StringEqualsIfExists", "test:key", "a", test__key="a") is ALLOW


def test_condition_keys_are_case_insensitive():
    assert cond("StringEquals", "AWS:UserName", "alice") is ALLOW


def test_several_keys_and_operators_are_anded():
    doc = policy(allow(Condition={"StringEquals": {"test:a": "1", "test:b": "2"},
                                  "Bool": {"aws:SecureTransport": "true"}}))
    assert decide(doc, test__a="1", test__b="2", aws__SecureTransport=True) is ALLOW
    assert decide(doc, test__a="1", test__b="3", aws__SecureTransport=True) is IMPLICIT
    assert decide(doc, test__a="1", test__b="2", aws__SecureTransport=False) is IMPLICIT


# --- numeric, date, bool, binary, ip, null ----------------------------------------------
@pytest.mark.parametrize("operator,policy_value,value,expected", [
    ("NumericEquals", "10", "10.0", ALLOW),
    ("NumericEquals", 10, "11", IMPLICIT),
    ("NumericNotEquals", "10", "11", ALLOW),
    ("NumericNotEquals", "10", "10", IMPLICIT),
    ("NumericLessThan", "10", "9", ALLOW),
    ("NumericLessThan", "10", "10", IMPLICIT),
    ("NumericLessThanEquals", "10", "10", ALLOW),
    ("NumericGreaterThan", "10", "11", ALLOW),
    ("NumericGreaterThan", "10", "10", IMPLICIT),
    ("NumericGreaterThanEquals", "10", "10", ALLOW),
    ("NumericEquals", "10", "ten", IMPLICIT),
])
def test_numeric_operators(operator, policy_value, value, expected):
    assert cond(operator, "test:n", policy_value, test__n=value) is expected


@pytest.mark.parametrize("operator,policy_value,expected", [
    ("DateLessThan", "2030-01-01T00:00:00Z", ALLOW),
    ("DateLessThan", "2020-01-01T00:00:00Z", IMPLICIT),
    ("DateGreaterThan", "2020-01-01T00:00:00Z", ALLOW),
    ("DateGreaterThanEquals", "2026-06-01T12:00:00Z", ALLOW),
    ("DateLessThanEquals", "2026-06-01T12:00:00Z", ALLOW),
    ("DateEquals", "2026-06-01T12:00:00+00:00", ALLOW),
    ("DateNotEquals", "2026-06-01T12:00:00Z", IMPLICIT),
    ("DateEquals", "1780315200", ALLOW),  # epoch seconds
])
def test_date_operators_on_current_time(operator, policy_value, expected):
    assert cond(operator, "aws:CurrentTime", policy_value, aws__CurrentTime="2026-06-01T12:00:00Z") is expected


def test_bool():
    assert cond("Bool", "aws:SecureTransport", "true", aws__SecureTransport=True) is ALLOW
    assert cond("Bool", "aws:SecureTransport", True, aws__SecureTransport=True) is ALLOW
    assert cond("Bool", "aws:SecureTransport", "true", aws__SecureTransport=False) is IMPLICIT


def test_binary_equals():
    assert cond("BinaryEquals", "test:b", "QmluYXJ5", test__b="QmluYXJ5") is ALLOW
    assert cond("BinaryEquals", "test:b", "QmluYXJ5", test__b="QmluYXJz") is IMPLICIT


@pytest.mark.parametrize("operator,cidr,ip,expected", [
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", ALLOW),
    ("IpAddress", "203.0.113.0/24", "198.51.100.1", IMPLICIT),
    ("IpAddress", "127.0.0.1", "127.0.0.1", ALLOW),
    ("IpAddress", "2001:db8::/32", "2001:db8::1", ALLOW),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.1", ALLOW),
    ("NotIpAddress", ["10.0.0.0/8", "203.0.113.0/24"], "203.0.113.7", IMPLICIT),
    ("IpAddress", "203.0.113.0/24", "not-an-ip", IMPLICIT),
])
def test_ip_operators(operator, cidr, ip, expected):
    assert cond(operator, "aws:SourceIp", cidr, aws__SourceIp=ip) is expected


def test_null():
    assert cond("Null", "test:k", "true") is ALLOW  # absent
    assert cond("Null", "test:k", "true", test__k="x") is IMPLICIT
    assert cond("Null", "test:k", "false", test__k="x") is ALLOW
    assert cond("Null", "test:k", "false") is IMPLICIT
    assert cond("Null", "dynamodb:Attributes", "false", dynamodb__Attributes=[]) is IMPLICIT


# --- multi-valued keys: ForAllValues / ForAnyValue ---------------------------------
TENANT = policy(allow(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"], ARN + "Orders", Condition={
    "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:username}"]}}))


def test_leading_keys_tenant_policy():
    assert decide(TENANT, resource=ARN + "Orders", dynamodb__LeadingKeys=["alice"]) is ALLOW
    assert decide(TENANT, resource=ARN + "Orders", dynamodb__LeadingKeys=["bob"]) is IMPLICIT
    assert decide(TENANT, resource=ARN + "Orders", dynamodb__LeadingKeys=["alice", "bob"]) is IMPLICIT
    assert decide(TENANT, resource=ARN + "Orders", dynamodb__LeadingKeys=["alice"], aws__username="bob") is IMPLICIT


def test_for_all_values_is_vacuously_true():
    # IAM's documented behaviour: no values (or no key) satisfies ForAllValues.
    assert decide(TENANT, resource=ARN + "Orders") is ALLOW
    assert decide(TENANT, resource=ARN + "Orders", dynamodb__LeadingKeys=[]) is ALLOW


def test_for_any_value():
    doc = policy(allow(Condition={"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["a", "b"]}}))
    assert decide(doc, dynamodb__Attributes=["x", "b"]) is ALLOW
    assert decide(doc, dynamodb__Attributes=["x", "y"]) is IMPLICIT
    assert decide(doc, dynamodb__Attributes=[]) is IMPLICIT
    assert decide(doc) is IMPLICIT


def test_attributes_allow_list():
    doc = policy(allow(Condition={
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "name", "email"]},
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}))
    assert decide(doc, dynamodb__Attributes=["pk", "name"], dynamodb__Select="SPECIFIC_ATTRIBUTES") is ALLOW
    assert decide(doc, dynamodb__Attributes=["pk", "salary"]) is IMPLICIT
    assert decide(doc, dynamodb__Attributes=["pk"], dynamodb__Select="ALL_ATTRIBUTES") is IMPLICIT


def test_for_all_values_with_negated_operator_and_like():
    doc = policy(allow(Condition={"ForAllValues:StringNotLike": {"dynamodb:Attributes": ["secret*"]}}))
    assert decide(doc, dynamodb__Attributes=["a", "b"]) is ALLOW
    assert decide(doc, dynamodb__Attributes=["a", "secretKey"]) is IMPLICIT
    like = policy(allow(Condition={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["tenant1#*"]}}))
    assert decide(like, dynamodb__LeadingKeys=["tenant1#a", "tenant1#b"]) is ALLOW
    assert decide(like, dynamodb__LeadingKeys=["tenant1#a", "tenant2#b"]) is IMPLICIT


def test_deny_with_condition():
    docs = [policy(allow()), policy(deny(Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))]
    assert decide(docs, aws__SourceIp="10.1.2.3") is ALLOW
    assert decide(docs, aws__SourceIp="192.0.2.1") is EXPLICIT
    insecure = [policy(allow()), policy(deny(Condition={"Bool": {"aws:SecureTransport": "false"}}))]
    assert decide(insecure, aws__SecureTransport=False) is EXPLICIT
    assert decide(insecure, aws__SecureTransport=True) is ALLOW


def test_broken_document_fails_closed():
    broken = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*"}]}  # no Resource
    assert decide([policy(allow()), broken]) is EXPLICIT


# --- validation -------------------------------------------------------------------
def test_valid_documents():
    assert validate_policy_document(TENANT) == []
    assert validate_policy_document(policy(allow(), version="2008-10-17")) == []
    assert validate_policy_document('{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}') == []
    assert validate_policy_document(policy(allow(Sid="Read1", Condition={
        "ForAnyValue:StringLikeIfExists": {"dynamodb:Attributes": ["a*"]},
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "::1"]},
        "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        "NumericLessThan": {"test:n": 5}, "Null": {"test:k": "true"}}))) == []


@pytest.mark.parametrize("doc,fragment", [
    ("{not json", "not valid JSON"),
    ([], "must be a JSON object"),
    ({"Version": "2012-10-17"}, "Statement: missing"),
    (policy(allow(), version="2013-01-01"), "Version: must be"),
    ({"Version": "2012-10-17", "Statement": []}, "non-empty list"),
    (policy({"Effect": "allow", "Action": "*", "Resource": "*"}), "Statement[0].Effect"),
    (policy({"Effect": "Allow", "Resource": "*"}), "exactly one of Action or NotAction"),
    (policy({"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}), "exactly one of Action"),
    (policy({"Effect": "Allow", "Action": "*"}), "exactly one of Resource or NotResource"),
    (policy(allow("GetItem")), "is not an action"),
    (policy(allow(resource="table/T")), "is not an ARN"),
    (policy(allow(Sid="bad sid")), "Sid: use only letters"),
    (policy(allow(Sid="A"), allow(Sid="A")), "duplicate Sid"),
    (policy(allow(Principal="*")), "Principal is not allowed"),
    (policy(allow(Foo=1)), "unknown element 'Foo'"),
    (policy(allow(Condition={"StringEqualz": {"a:b": "c"}})), "unknown condition operator 'StringEqualz'"),
    (policy(allow(Condition={"NullIfExists": {"a:b": "true"}})), "Null has no IfExists"),
    (policy(allow(Condition={"NumericLessThan": {"a:b": "x"}})), "not a number"),
    (policy(allow(Condition={"IpAddress": {"aws:SourceIp": "999.1.1.1"}})), "not an IP address"),
    (policy(allow(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})), "not a date"),
    (policy(allow(Condition={"Bool": {"aws:SecureTransport": "yes"}})), "not true or false"),
    (policy(allow(Condition={"StringEquals": "x"})), "must be an object"),
    (policy(allow(Condition={"StringEquals": {"nokey": "x"}})), "is not a condition key"),
    (policy(allow(Condition={"StringEquals": {"a:b": {"x": 1}}})), "values must be strings"),
])
def test_invalid_documents_name_the_problem(doc, fragment):
    problems = validate_policy_document(doc)
    assert problems and any(fragment in p for p in problems), problems


def test_allows_everything_shortcut():
    assert compile_policies([("a", policy(allow()))]).allows_everything
    assert compile_policies([("a", policy(allow("dynamodb:*")))]).allows_everything
    assert not compile_policies([("a", policy(allow(), deny("dynamodb:Scan")))]).allows_everything
    assert not compile_policies([("a", policy(allow("dynamodb:Get*")))]).allows_everything
    assert not compile_policies([("a", policy(allow(Condition={"Bool": {"aws:SecureTransport": "true"}})))]
                                ).allows_everything
    assert not compile_policies([]).allows_everything
    assert compile_policies([("t", TENANT)]).condition_keys == {"dynamodb:leadingkeys"}


# --- what a request is checked for (wireapi.authz) ------------------------------------
def _checks(operation, data, service="dynamodb"):
    from wireapi.authz import checks_for

    return [(c.action, c.resource) for c in checks_for(service, operation, data)]


def test_checks_per_operation():
    t = "arn:aws:dynamodb:us-east-1:000000000000:table/"
    assert _checks("GetItem", {"TableName": "A", "Key": {}}) == [("dynamodb:GetItem", t + "A")]
    assert _checks("GetItem", {"TableName": t + "A", "Key": {}}) == [("dynamodb:GetItem", t + "A")]
    assert _checks("Query", {"TableName": "A", "IndexName": "i"}) == [("dynamodb:Query", t + "A/index/i")]
    assert _checks("Scan", {"TableName": "A"}) == [("dynamodb:Scan", t + "A")]
    assert _checks("BatchWriteItem", {"RequestItems": {"A": [{"PutRequest": {"Item": {}}}],
                                                       "B": [{"DeleteRequest": {"Key": {}}}]}}) == \
        [("dynamodb:BatchWriteItem", t + "A"), ("dynamodb:BatchWriteItem", t + "B")]
    assert _checks("BatchGetItem", {"RequestItems": {"A": {"Keys": [{}]}}}) == [("dynamodb:BatchGetItem", t + "A")]
    assert _checks("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "A"}}, {"Update": {"TableName": "B"}}, {"Delete": {"TableName": "A"}},
        {"ConditionCheck": {"TableName": "C"}}]}) == [
        ("dynamodb:PutItem", t + "A"), ("dynamodb:UpdateItem", t + "B"), ("dynamodb:DeleteItem", t + "A"),
        ("dynamodb:ConditionCheckItem", t + "C")]
    assert _checks("TransactGetItems", {"TransactItems": [{"Get": {"TableName": "A"}}]}) == [
        ("dynamodb:GetItem", t + "A")]
    assert _checks("ListTables", {}) == [("dynamodb:ListTables", t + "*")]
    assert _checks("DescribeLimits", {}) == [("dynamodb:DescribeLimits", "*")]
    assert _checks("TagResource", {"ResourceArn": t + "A", "Tags": []}) == [("dynamodb:TagResource", t + "A")]
    assert _checks("DeleteBackup", {"BackupArn": t + "A/backup/1"}) == [("dynamodb:DeleteBackup", t + "A/backup/1")]
    assert _checks("RestoreTableFromBackup", {"BackupArn": t + "A/backup/1", "TargetTableName": "B"}) == [
        ("dynamodb:RestoreTableFromBackup", t + "A/backup/1"), ("dynamodb:RestoreTableFromBackup", t + "B")]
    assert _checks("ImportTable", {"TableCreationParameters": {"TableName": "N"}}) == [("dynamodb:ImportTable", t + "N")]
    assert _checks("ExportTableToPointInTime", {"TableArn": t + "A"}) == [("dynamodb:ExportTableToPointInTime", t + "A")]
    assert _checks("DescribeStream", {"StreamArn": t + "A/stream/x"}, "dynamodbstreams") == [
        ("dynamodb:DescribeStream", t + "A/stream/x")]
    assert _checks("ListStreams", {}, "dynamodbstreams") == [("dynamodb:ListStreams", "*")]


def test_partiql_checks_name_the_statement_action():
    t = "arn:aws:dynamodb:us-east-1:000000000000:table/"
    assert _checks("ExecuteStatement", {"Statement": 'SELECT * FROM "A"."i"'}) == [("dynamodb:PartiQLSelect", t + "A/index/i")]
    assert _checks("BatchExecuteStatement", {"Statements": [
        {"Statement": "INSERT INTO \"A\" VALUE {'pk': 'x'}"}, {"Statement": "DELETE FROM \"B\" WHERE pk = 'x'"}]}) == [
        ("dynamodb:PartiQLInsert", t + "A"), ("dynamodb:PartiQLDelete", t + "B")]
    assert _checks("ExecuteTransaction", {"TransactStatements": [
        {"Statement": "UPDATE \"A\" SET v = 1 WHERE pk = 'x'"}]}) == [("dynamodb:PartiQLUpdate", t + "A")]


def test_attribute_names_are_top_level_names_of_every_part():
    from wireapi.authz import attribute_names

    assert attribute_names({
        "Key": {"pk": {"S": "a"}},
        "UpdateExpression": "SET #n.sub = :v, b[0].c = if_not_exists(c, :z) ADD cnt :one REMOVE old",
        "ConditionExpression": "attribute_exists(pk) AND size(tags) > :zero AND NOT begins_with(#e, :p)",
        "ProjectionExpression": "x, y.z",
        "ExpressionAttributeNames": {"#n": "name", "#e": "email"},
    }) == {"pk", "name", "b", "c", "cnt", "old", "tags", "email", "x", "y"}
    assert attribute_names({"Item": {"a": {}, "b": {}}, "AttributesToGet": ["c"]}) == {"a", "b", "c"}
