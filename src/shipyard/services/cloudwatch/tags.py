"""TagResource, UntagResource and ListTagsForResource on CloudWatch's taggable resources
that Shipyard keeps: alarms (metric and composite) and dashboards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.cloudwatch.alarms import alarm_by_arn, change_alarm_tags
from shipyard.services.cloudwatch.dashboards import dashboard_arn

router = ServiceRouter("cloudwatch")


@router.operation("TagResource")
async def tag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    tags = {tag["Key"]: tag["Value"] for tag in params["Tags"]}
    await _change_tags(ctx, params["ResourceARN"], lambda current: current.update(tags))
    return {}


@router.operation("UntagResource")
async def untag_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    keys = params["TagKeys"]

    def untag(current: dict[str, str]) -> None:
        for key in keys:
            current.pop(key, None)

    await _change_tags(ctx, params["ResourceARN"], untag)
    return {}


@router.operation("ListTagsForResource")
async def list_tags_for_resource(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = params["ResourceARN"]
    name = _dashboard_name(ctx, arn)
    if name is None:
        tags = (await alarm_by_arn(ctx, arn)).details.get("tags", {})
    else:
        dashboard = await ctx.runtime.dashboards.get(name)
        if dashboard is None:
            raise _not_found(arn)
        tags = dashboard.tags
    return {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}


async def _change_tags(ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], None]) -> None:
    name = _dashboard_name(ctx, arn)
    if name is None:
        await change_alarm_tags(ctx, arn, change)
    elif not await ctx.runtime.dashboards.change_tags(name, change):
        raise _not_found(arn)


def _dashboard_name(ctx: RequestContext, arn: str) -> str | None:
    """The dashboard ``arn`` names (in this account), or None where it names no dashboard."""
    prefix = dashboard_arn(ctx.runtime.account_id, "")
    return arn[len(prefix) :] if arn.startswith(prefix) else None


def _not_found(arn: str) -> AwsError:
    return AwsError("ResourceNotFoundException", f"Resource {arn} not found.", 404)
