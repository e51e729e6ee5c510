"""Tags of log groups: the legacy by-name operations and the ARN-based ones."""

from __future__ import annotations

from typing import Any

from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.logs.names import group_of_arn

router = ServiceRouter("logs")


@router.operation("TagLogGroup")
async def tag_log_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.retag(ctx.region, params["logGroupName"], add=params["tags"])
    return {}


@router.operation("UntagLogGroup")
async def untag_log_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.logs.retag(ctx.region, params["logGroupName"], add={}, remove=params["tags"])
    return {}


@router.operation("ListTagsLogGroup")
async def list_tags_log_group(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"tags": (await ctx.runtime.logs.group(ctx.region, params["logGroupName"])).tags}


@router.operation("TagResource")
async def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    region, name = group_of_arn(ctx, params["resourceArn"])
    await ctx.runtime.logs.retag(region, name, add=params["tags"])
    return {}


@router.operation("UntagResource")
async def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    region, name = group_of_arn(ctx, params["resourceArn"])
    await ctx.runtime.logs.retag(region, name, add={}, remove=params["tagKeys"])
    return {}


@router.operation("ListTagsForResource")
async def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    region, name = group_of_arn(ctx, params["resourceArn"])
    return {"tags": (await ctx.runtime.logs.group(region, name)).tags}
