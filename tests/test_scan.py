"""Scan, filters and parallel segments through boto3."""
from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def filled(ddb, hash_table):
    ddb.batch_write_item(RequestItems={hash_table: [
        {"PutRequest": {"Item": {"pk": {"S": f"k{i:03d}"}, "n": {"N": str(i)}}}} for i in range(25)]})
    ddb.batch_write_item(RequestItems={hash_table: [
        {"PutRequest": {"Item": {"pk": {"S": f"k{i:03d}"}, "n": {"N": str(i)}}}} for i in range(25, 50)]})
    return hash_table


def all_pks(pages):
    return [i["pk"]["S"] for p in pages for i in p["Items"]]


def test_scan_pagination_returns_everything_once(ddb, filled):
    pks = all_pks(ddb.get_paginator("scan").paginate(TableName=filled, PaginationConfig={"PageSize": 7}))
    assert sorted(pks) == [f"k{i:03d}" for i in range(50)]
    assert len(pks) == len(set(pks))


def test_scan_filter_and_counts(ddb, filled):
    out = ddb.scan(TableName=filled, FilterExpression="n < :ten", ExpressionAttributeValues={":ten": {"N": "10"}})
    assert out["Count"] == 10 and out["ScannedCount"] == 50
    out = ddb.scan(TableName=filled, Select="COUNT")
    assert out["Count"] == 50
    out = ddb.scan(TableName=filled, ScanFilter={"n": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "45"}]}})
    assert out["Count"] == 5


def test_parallel_scan_segments_cover_every_item_once(ddb, filled):
    seen = []
    for segment in range(4):
        seen += all_pks(ddb.get_paginator("scan").paginate(TableName=filled, Segment=segment, TotalSegments=4,
                                                           PaginationConfig={"PageSize": 5}))
    assert sorted(seen) == [f"k{i:03d}" for i in range(50)]


def test_parallel_scan_validation(ddb, filled):
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=filled, Segment=4, TotalSegments=4)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as err:
        ddb.scan(TableName=filled, Segment=1)
    assert err.value.response["Error"]["Code"] == "ValidationException"
