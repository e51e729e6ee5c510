"""Tags of SageMaker resources: AddTags, ListTags, DeleteTags."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.jobs import MAX_TAGS

router = ServiceRouter("sagemaker")


@router.operation("AddTags")
async def add_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = await _existing(ctx, params["ResourceArn"])
    tags = {tag["Key"]: tag["Value"] for tag in params["Tags"]}
    if not await ctx.runtime.tags.set(arn, tags, limit=MAX_TAGS):
        raise AwsError("ResourceLimitExceeded", f"The resource {arn} would have more than {MAX_TAGS} tags.")
    return {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}


@router.operation("ListTags")
async def list_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = await _existing(ctx, params["ResourceArn"])
    tags = sorted((await ctx.runtime.tags.tags(arn)).items())
    start = 0
    if params.get("NextToken"):
        if not params["NextToken"].isdigit():
            raise AwsError("ValidationException", "Invalid pagination token.")
        start = int(params["NextToken"])
    limit = params.get("MaxResults") or 50
    page = tags[start : start + limit]
    output: dict[str, Any] = {"Tags": [{"Key": key, "Value": value} for key, value in page]}
    if start + limit < len(tags):
        output["NextToken"] = str(start + limit)
    return output


@router.operation("DeleteTags")
async def delete_tags(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    arn = await _existing(ctx, params["ResourceArn"])
    await ctx.runtime.tags.remove(arn, params["TagKeys"])
    return {}


async def _existing(ctx: RequestContext, arn: str) -> str:
    """The ARN (the name lower-cased, as SageMaker writes it) of a resource that exists."""
    prefix, _, name = arn.partition("/")
    normalized = f"{prefix}/{name.lower()}"
    for store in (ctx.runtime.jobs, ctx.runtime.hosting, ctx.runtime.tuning, ctx.runtime.monitoring):
        if await store.get_by_arn(normalized) is not None:
            return normalized
    raise AwsError("ValidationException", f"Could not find resource {arn}")
