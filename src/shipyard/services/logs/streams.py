"""Log streams: create, delete, describe (by name or by last event time)."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.logs import StreamOrder, group_arn
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.logs import tokens
from shipyard.services.logs.groups import MAX_DESCRIBE
from shipyard.services.logs.names import group_name
from shipyard.services.logs.shapes import log_stream

router = ServiceRouter("logs")


@router.operation("CreateLogStream")
async def create_log_stream(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.create_stream(ctx.region, params["logGroupName"], params["logStreamName"])
    return {}


@router.operation("DeleteLogStream")
async def delete_log_stream(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.delete_stream(ctx.region, params["logGroupName"], params["logStreamName"])
    return {}


@router.operation("DescribeLogStreams")
async def describe_log_streams(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group = group_name(params)
    order = StreamOrder(params.get("orderBy") or StreamOrder.NAME)
    prefix = params.get("logStreamNamePrefix")
    if prefix is not None and order is StreamOrder.LAST_EVENT_TIME:
        raise AwsError(
            "InvalidParameterException",
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
            400,
        )
    descending = bool(params.get("descending"))
    limit = params.get("limit") or MAX_DESCRIBE
    after = None
    if params.get("nextToken"):
        payload = tokens.decode(params["nextToken"], r=int, n=str, o=str, d=bool)
        if (payload["o"], payload["d"]) != (order.value, descending):
            raise tokens.invalid_token()
        after = (payload["r"], payload["n"])
    found = await ctx.runtime.logs.streams(
        ctx.region, group, prefix=prefix, order=order, descending=descending, after=after, limit=limit + 1
    )
    arn = group_arn(ctx.region, ctx.account_id, group)
    output: dict[str, Any] = {"logStreams": [log_stream(stream, arn) for _, stream in found[:limit]]}
    if len(found) > limit:
        (rank, name), _ = found[limit - 1]
        output["nextToken"] = tokens.encode({"r": rank, "n": name, "o": order.value, "d": descending})
    return output
