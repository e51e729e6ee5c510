"""Log groups: create, delete, describe, and their retention policy."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.logs import tokens
from shipyard.services.logs.shapes import log_group

router = ServiceRouter("logs")

#: DescribeLogGroups' and DescribeLogStreams' largest (and default) page.
MAX_DESCRIBE = 50

#: The only values ``retentionInDays`` may take.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


@router.operation("CreateLogGroup")
async def create_log_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.create_group(ctx.region, params["logGroupName"], params.get("tags"))
    return {}


@router.operation("DeleteLogGroup")
async def delete_log_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.delete_group(ctx.region, params["logGroupName"])
    return {}


@router.operation("DescribeLogGroups")
async def describe_log_groups(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix, pattern = params.get("logGroupNamePrefix"), params.get("logGroupNamePattern")
    if prefix is not None and pattern is not None:
        raise AwsError(
            "InvalidParameterException",
            "LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.",
            400,
        )
    limit = params.get("limit") or MAX_DESCRIBE
    after = tokens.decode(params["nextToken"], n=str)["n"] if params.get("nextToken") else None
    found = await ctx.runtime.logs.groups(ctx.region, prefix=prefix, pattern=pattern, after=after, limit=limit + 1)
    output: dict[str, Any] = {"logGroups": [log_group(group, ctx.account_id) for group in found[:limit]]}
    if len(found) > limit:
        output["nextToken"] = tokens.encode({"n": found[limit - 1].name})
    return output


@router.operation("PutRetentionPolicy", validates=("retentionInDays",))
async def put_retention_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    days = params.get("retentionInDays")
    if days not in RETENTION_DAYS:
        allowed = ", ".join(map(str, RETENTION_DAYS))
        raise AwsError(
            "InvalidParameterException",
            f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{allowed}]",
            400,
        )
    await ctx.runtime.logs.set_retention(ctx.region, params["logGroupName"], days)
    return {}


@router.operation("DeleteRetentionPolicy")
async def delete_retention_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.set_retention(ctx.region, params["logGroupName"], None)
    return {}
