"""The token buckets of wireapi.throttle: refill, burst, debt, a server's share, and
two workers sharing one mapped file. Time is passed in (the buckets take `now`)."""
from __future__ import annotations

from storage.backends import TableRecord
from wireapi import throttle


def _limit(rate: float = 5.0, burst_seconds: float = throttle.BURST_SECONDS, key: int = 1 << 33) -> throttle.Limit:
    return throttle.Limit(key, rate, burst_seconds, True, True, None, "arn:aws:dynamodb:us-east-1:0:table/t")


def test_a_new_bucket_holds_300_seconds_and_refills_at_the_rate():
    buckets, limit = throttle.Buckets(), _limit(5.0)
    assert buckets.take(limit, 1.0, 1500, 1500, now=100.0)  # the whole burst at once
    assert not buckets.take(limit, 1.0, 1, 1, now=100.0)
    assert not buckets.take(limit, 1.0, 1, 1, now=100.1)  # 0.5 unit refilled
    assert buckets.take(limit, 1.0, 1, 1, now=100.3)
    # A long pause refills no more than the burst.
    assert buckets.take(limit, 1.0, 1500, 1500, now=10_000.0)
    assert not buckets.take(limit, 1.0, 1, 1, now=10_000.0)


def test_a_request_larger_than_the_burst_passes_with_a_full_bucket_and_leaves_debt():
    buckets, limit = throttle.Buckets(), _limit(1.0)  # 300 units of burst
    assert buckets.take(limit, 1.0, 400, 400, now=0.0)
    assert not buckets.take(limit, 1.0, 0, 0, now=50.0)  # still 50 units in debt
    assert buckets.take(limit, 1.0, 0, 0, now=101.0)
    buckets.take(limit, 1.0, 0, 1000, now=101.0, force=True)  # consumed whatever was there
    assert not buckets.take(limit, 1.0, 1, 1, now=102.0)


def test_a_servers_share_divides_rate_and_burst():
    buckets, limit = throttle.Buckets(), _limit(10.0)
    assert buckets.take(limit, 0.5, 1500, 1500, now=0.0)  # half of 3000
    assert not buckets.take(limit, 0.5, 1, 1, now=0.0)
    assert not buckets.take(limit, 0.5, 6, 6, now=1.0)  # 5 a second refilled, not 10
    assert buckets.take(limit, 0.5, 5, 5, now=1.0)


def test_two_workers_share_the_mapped_buckets(tmp_path):
    path = str(tmp_path / throttle.FILE_NAME)
    one, two, limit = throttle.Buckets(path), throttle.Buckets(path), _limit(5.0)
    assert one.take(limit, 1.0, 1000, 1000, now=0.0)
    assert two.take(limit, 1.0, 500, 500, now=0.0)  # what the other worker left
    assert not one.take(limit, 1.0, 1, 1, now=0.0)
    other = _limit(5.0, key=(2 << 33) | 1)  # another table's bucket is its own
    assert two.take(other, 1.0, 1500, 1500, now=0.0)


def test_limits_follow_the_table_definition():
    desc = {"TableArn": "arn:aws:dynamodb:us-east-1:0:table/t",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 7},
            "GlobalSecondaryIndexes": [{"IndexName": "g", "ProvisionedThroughput": {"ReadCapacityUnits": 1,
                                                                                   "WriteCapacityUnits": 2}}]}
    limits = throttle.limits(TableRecord(3, "t", "ACTIVE", 0.0, desc))
    assert (limits.read.rate, limits.write.rate) == (5.0, 7.0)
    assert limits.gsi_write["g"].rate == 2.0 and limits.gsi_write["g"].resource.endswith("/index/g")
    assert len({limits.read.key, limits.write.key, limits.gsi_read["g"].key, limits.gsi_write["g"].key}) == 4
    on_demand = {"TableArn": "arn", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                 "OnDemandThroughput": {"MaxReadRequestUnits": -1, "MaxWriteRequestUnits": 9}}
    limits = throttle.limits(TableRecord(4, "u", "ACTIVE", 0.0, on_demand))
    assert limits.read is None
    assert limits.write.rate == 9.0 and limits.write.burst_seconds == 1.0 and not limits.write.provisioned
    plain = {"TableArn": "arn", "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}
    assert throttle.limits(TableRecord(5, "v", "ACTIVE", 0.0, plain)) == throttle.TableLimits(None, None, {}, {})
