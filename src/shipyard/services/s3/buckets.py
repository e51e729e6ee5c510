"""S3 bucket operations: create, list, head, delete, location, tagging, policy, versioning."""

from __future__ import annotations

import json
from typing import Any

from shipyard.errors import AwsError
from shipyard.iam.policy import PolicyType, parse_policy
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.s3.common import owner
from shipyard.store.naming import validate_bucket_name

router = ServiceRouter("s3")

_MAX_BUCKETS_PAGE = 10000


@router.operation("CreateBucket")
async def create_bucket(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["Bucket"]
    validate_bucket_name(name)
    constraint = (params.get("CreateBucketConfiguration") or {}).get("LocationConstraint")
    if constraint == "us-east-1":
        raise AwsError(
            "InvalidLocationConstraint", "The specified location-constraint is not valid", 400,
            fields={"LocationConstraint": constraint},
        )
    if constraint is None and ctx.region != "us-east-1":
        raise AwsError(
            "IllegalLocationConstraintException",
            "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            400,
        )
    region = constraint or ctx.region
    if region != ctx.region:
        raise AwsError(
            "IllegalLocationConstraintException",
            f"The {region} location constraint is incompatible for the region specific endpoint this request was sent to.",
            400,
        )
    await ctx.runtime.s3.create_bucket(name=name, region=region, owner=ctx.account_id)
    return {"Location": f"/{name}", "BucketArn": f"arn:aws:s3:::{name}"}


@router.operation("HeadBucket")
async def head_bucket(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = await ctx.runtime.s3.get_bucket(params["Bucket"])
    return {"BucketRegion": bucket.region, "AccessPointAlias": False}


@router.operation("ListBuckets")
async def list_buckets(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    limit = params.get("MaxBuckets") or _MAX_BUCKETS_PAGE
    if not 1 <= limit <= _MAX_BUCKETS_PAGE:
        raise AwsError("InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000", 400)
    prefix = params.get("Prefix")
    buckets = await ctx.runtime.s3.list_buckets(
        prefix=prefix, after=params.get("ContinuationToken"), limit=limit + 1, region=params.get("BucketRegion")
    )
    page = buckets[:limit]
    output: dict[str, Any] = {
        "Buckets": [{"Name": b.name, "CreationDate": b.created, "BucketRegion": b.region} for b in page],
        "Owner": owner(ctx),
        "Prefix": prefix,
    }
    if len(buckets) > limit:
        output["ContinuationToken"] = page[-1].name
    return output


@router.operation("DeleteBucket")
async def delete_bucket(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.s3.delete_bucket(params["Bucket"])
    ctx.runtime.authorizer.forget_bucket_policy(params["Bucket"])
    return {}


@router.operation("GetBucketLocation")
async def get_bucket_location(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = await ctx.runtime.s3.get_bucket(params["Bucket"])
    # us-east-1 is reported as an empty constraint, as AWS does.
    return {"LocationConstraint": None if bucket.region == "us-east-1" else bucket.region}


@router.operation("PutBucketTagging")
async def put_bucket_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    tag_set = (params.get("Tagging") or {}).get("TagSet") or []
    keys = [tag["Key"] for tag in tag_set]
    if len(keys) != len(set(keys)):
        raise AwsError("InvalidTag", "Cannot provide multiple Tags with the same key", 400)
    await ctx.runtime.s3.put_bucket_tags(params["Bucket"], {tag["Key"]: tag["Value"] for tag in tag_set})
    return {}


@router.operation("GetBucketTagging")
async def get_bucket_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    tags = await ctx.runtime.s3.get_bucket_tags(params["Bucket"])
    return {"TagSet": [{"Key": key, "Value": value} for key, value in tags.items()]}


@router.operation("DeleteBucketTagging")
async def delete_bucket_tagging(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.s3.delete_bucket_tags(params["Bucket"])
    return {}


@router.operation("PutBucketPolicy")
async def put_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    policy = params.get("Policy") or ""
    if isinstance(policy, bytes):
        policy = policy.decode("utf-8", "replace")
    validate_policy_document(policy, params["Bucket"])
    await ctx.runtime.s3.put_bucket_policy(params["Bucket"], policy)
    ctx.runtime.authorizer.forget_bucket_policy(params["Bucket"])
    return {}


@router.operation("GetBucketPolicy")
async def get_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return {"Policy": await ctx.runtime.s3.get_bucket_policy(params["Bucket"])}


@router.operation("DeleteBucketPolicy")
async def delete_bucket_policy(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.runtime.s3.delete_bucket_policy(params["Bucket"])
    ctx.runtime.authorizer.forget_bucket_policy(params["Bucket"])
    return {}


@router.operation("PutBucketVersioning")
async def put_bucket_versioning(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    status = (params.get("VersioningConfiguration") or {}).get("Status")
    if status not in ("Enabled", "Suspended"):
        raise AwsError(
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
            400,
        )
    await ctx.runtime.s3.put_bucket_versioning(params["Bucket"], status)
    return {}


@router.operation("GetBucketVersioning")
async def get_bucket_versioning(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    bucket = await ctx.runtime.s3.get_bucket(params["Bucket"])
    return {"Status": bucket.versioning} if bucket.versioning else {}


def validate_policy_document(text: str, bucket: str) -> None:
    """Raise ``MalformedPolicy`` unless ``text`` is a bucket policy S3 would accept.

    Checks the shape AWS checks before storing: a JSON object with a ``Statement`` list
    (or one statement) whose entries have an ``Effect`` of Allow/Deny, a ``Principal``, an
    ``Action`` and ``Resource`` ARNs that name this bucket.
    """
    try:
        document = json.loads(text)
    except ValueError:
        raise _malformed("Policies must be valid JSON and the first byte must be '{'") from None
    if not isinstance(document, dict):
        raise _malformed("Policies must be valid JSON and the first byte must be '{'")
    if document.get("Version", "2012-10-17") not in ("2012-10-17", "2008-10-17"):
        raise _malformed("Invalid policy version")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise _malformed("Missing required field Statement")
    for statement in statements:
        if not isinstance(statement, dict):
            raise _malformed("Statement must be an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise _malformed("Invalid effect: " + str(statement.get("Effect")))
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise _malformed("Missing required field Principal")
        if "Action" not in statement and "NotAction" not in statement:
            raise _malformed("Missing required field Action")
        resources = statement.get("Resource", statement.get("NotResource"))
        if resources is None:
            raise _malformed("Missing required field Resource")
        for resource in [resources] if isinstance(resources, str) else resources:
            if not (isinstance(resource, str) and (resource == "*" or resource.startswith(f"arn:aws:s3:::{bucket}"))):
                raise _malformed("Policy has invalid resource")
    try:
        parse_policy(document, PolicyType.RESOURCE)
    except AwsError as error:  # the policy engine's finer checks, under S3's error code
        raise _malformed(error.message) from None


def _malformed(message: str) -> AwsError:
    return AwsError("MalformedPolicy", message, 400)
