"""DescribeLimits and DescribeEndpoints: what the service says about itself."""
from __future__ import annotations

from typing import Any

from ..dispatch import Request

# DynamoDB's default provisioned-capacity quotas per account and per table (a
# region's defaults). Each table's own capacity is enforced (wireapi.throttle);
# these quotas on what a table may be given are reported, not enforced.
ACCOUNT_MAX_CAPACITY_UNITS = 80_000
TABLE_MAX_CAPACITY_UNITS = 40_000
ENDPOINT_CACHE_MINUTES = 1440


async def describe_limits(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "AccountMaxReadCapacityUnits": ACCOUNT_MAX_CAPACITY_UNITS,
        "AccountMaxWriteCapacityUnits": ACCOUNT_MAX_CAPACITY_UNITS,
        "TableMaxReadCapacityUnits": TABLE_MAX_CAPACITY_UNITS,
        "TableMaxWriteCapacityUnits": TABLE_MAX_CAPACITY_UNITS,
    }


def _host(req: Request) -> str:
    """The address the client used (its Host header), as DynamoDB answers its own host name."""
    scope = req.scope or {}
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return value.decode("latin-1")
    server = scope.get("server")
    return f"{server[0]}:{server[1]}" if server else "localhost"


async def describe_endpoints(req: Request, data: dict[str, Any]) -> dict[str, Any]:
    return {"Endpoints": [{"Address": _host(req), "CachePeriodInMinutes": ENDPOINT_CACHE_MINUTES}]}


HANDLERS = {
    "DescribeLimits": describe_limits,
    "DescribeEndpoints": describe_endpoints,
}
