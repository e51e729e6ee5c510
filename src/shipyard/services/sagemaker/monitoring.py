"""Model Monitor's job definitions: CreateDataQualityJobDefinition, DescribeDataQualityJobDefinition,
ListDataQualityJobDefinitions, DeleteDataQualityJobDefinition and the same four for model
quality; and what the monitoring operations share (ARNs, lookups, checks, paging)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shipyard.compute.capacity import check_fits
from shipyard.errors import AwsError
from shipyard.monitoring.schedules import definitions
from shipyard.monitoring.schedules.records import (
    DATA_QUALITY,
    MODEL_QUALITY,
    SCHEDULE,
    MonitoringRecord,
)
from shipyard.monitoring.schedules.windows import check_offsets
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.jobs import MAX_TAGS, drop_none, json_safe
from shipyard.serving.capture import CaptureConfig
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms, to_datetime

router = ServiceRouter("sagemaker")

#: How AWS words each kind in messages.
_WORDS = {DATA_QUALITY: "data quality job definition", MODEL_QUALITY: "model quality job definition", SCHEDULE: "monitoring schedule"}


def monitoring_arn(ctx: RequestContext, kind: str, name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:<kind>/<name>`` (the name lower-cased, as AWS does)."""
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:{kind}/{name.lower()}"


async def find(ctx: RequestContext, kind: str, name: str) -> MonitoringRecord:
    """The record of ``kind`` named ``name``, or ``ResourceNotFound``."""
    record = await ctx.runtime.monitoring.get(kind, ctx.region, name)
    if record is None:
        raise AwsError("ResourceNotFound", f"Could not find {_WORDS[kind]} {monitoring_arn(ctx, kind, name)}.")
    return record


async def create(
    ctx: RequestContext, kind: str, name: str, params: dict[str, Any], status: str, details: dict[str, Any]
) -> MonitoringRecord:
    """Store a new record from its Create* ``params`` and tag it (``ResourceInUse`` if the name is taken)."""
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    if len(tags) > MAX_TAGS:
        raise AwsError("ValidationException", f"A resource can have at most {MAX_TAGS} tags.")
    at = now_ms()
    record = MonitoringRecord(
        id=0,
        kind=kind,
        region=ctx.region,
        name=name,
        arn=monitoring_arn(ctx, kind, name),
        status=status,
        request=json_safe({key: value for key, value in params.items() if key != "Tags"}),
        details=details,
        created_ms=at,
        modified_ms=at,
    )
    try:
        record = await ctx.runtime.monitoring.create(record)
    except RecordExists:
        raise AwsError("ResourceInUse", f"The {_WORDS[kind]} {name} already exists ({record.arn}).") from None
    if tags:
        await ctx.runtime.tags.set(record.arn, tags)
    return record


async def check_definition(ctx: RequestContext, definition: dict[str, Any]) -> str:
    """Check a job definition (MonitoringJobDefinition's form) as SageMaker does; its endpoint's name."""
    if any("EndpointInput" not in item for item in definition.get("MonitoringInputs") or []):
        raise AwsError("ValidationException", "Shipyard monitors endpoints only: BatchTransformInput is not supported.")
    source = definitions.endpoint_input(definition)
    if source is None:
        raise AwsError("ValidationException", "The job definition must have an EndpointInput.")
    check_offsets(source.get("StartTimeOffset"), source.get("EndTimeOffset"), "EndpointInput.")
    outputs = definition["MonitoringOutputConfig"]["MonitoringOutputs"]
    if len(outputs) != 1:
        raise AwsError("ValidationException", "MonitoringOutputConfig must have exactly one MonitoringOutput.")
    if definition.get("MonitoringType") == "ModelQuality":
        if not definition.get("ProblemType"):
            raise AwsError("ValidationException", "ModelQualityAppSpecification.ProblemType is required.")
        if not (definition.get("GroundTruthS3Input") or {}).get("S3Uri"):
            raise AwsError("ValidationException", "ModelQualityJobInput.GroundTruthS3Input.S3Uri is required.")
    cluster = definition["MonitoringResources"]["ClusterConfig"]
    check_fits(cluster["InstanceType"], int(cluster["InstanceCount"]), ctx.runtime.capacity)
    await ctx.runtime.roles.check(definition["RoleArn"])
    await check_endpoint(ctx, source["EndpointName"])
    return source["EndpointName"]


async def check_endpoint(ctx: RequestContext, name: str) -> None:
    """The endpoint must exist and capture data (what monitoring analyses)."""
    endpoint = await ctx.runtime.hosting.get("endpoint", ctx.region, name)
    if endpoint is None:
        raise AwsError(
            "ValidationException",
            f"Could not find endpoint \"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:endpoint/{name.lower()}\".",
        )
    if CaptureConfig.parse(endpoint.details.get("data_capture")) is None:
        raise AwsError("ValidationException", f"Data capture is not enabled on endpoint {name}: monitoring needs its captured data.")


def paged(items: list[Any], params: dict[str, Any], keys: dict[str, Callable[[Any], Any]]) -> tuple[list[Any], str | None]:
    """One page of ``items`` sorted by ``SortBy`` (one of ``keys``; default CreationTime) in
    ``SortOrder`` (default Descending), from ``NextToken``, ``MaxResults`` long (default 10)."""
    key = keys[params.get("SortBy") or "CreationTime"]
    items = sorted(items, key=lambda item: (key(item), item.id), reverse=(params.get("SortOrder") or "Descending") == "Descending")
    start = 0
    if params.get("NextToken"):
        token = params["NextToken"]
        if not token.isdigit() or int(token) > len(items):
            raise AwsError("ValidationException", "Invalid pagination token.")
        start = int(token)
    limit = params.get("MaxResults") or 10
    following = start + limit
    return items[start:following], str(following) if following < len(items) else None


def within(value_ms: int, params: dict[str, Any], after: str, before: str) -> bool:
    """Whether ``value_ms`` lies strictly between the request's ``after`` and ``before`` times."""
    low, high = params.get(after), params.get(before)
    return (low is None or value_ms > low.timestamp() * 1000) and (high is None or value_ms < high.timestamp() * 1000)


# --- the job definitions ------------------------------------------------------------------------


def _definition_operations(kind: str, prefix: str) -> None:
    """Register Create/Describe/List/Delete{prefix}JobDefinition for ``kind``."""

    async def create_definition(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        definition = definitions.from_job_definition(kind, json_safe(params))
        endpoint = await check_definition(ctx, definition)
        record = await create(ctx, kind, params["JobDefinitionName"], params, "Created", {"endpoint": endpoint})
        return {"JobDefinitionArn": record.arn}

    async def describe_definition(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        record = await find(ctx, kind, params["JobDefinitionName"])
        request = record.request
        echoed = (
            f"{prefix}BaselineConfig",
            f"{prefix}AppSpecification",
            f"{prefix}JobInput",
            f"{prefix}JobOutputConfig",
            "JobResources",
            "NetworkConfig",
            "RoleArn",
            "StoppingCondition",
        )
        return drop_none(
            {
                "JobDefinitionArn": record.arn,
                "JobDefinitionName": record.name,
                "CreationTime": to_datetime(record.created_ms),
                **{member: request[member] for member in echoed if member in request},
            }
        )

    async def list_definitions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        records = [
            record
            for record in await ctx.runtime.monitoring.of_kind(kind, ctx.region)
            if (not params.get("EndpointName") or record.details["endpoint"] == params["EndpointName"])
            and (not params.get("NameContains") or params["NameContains"] in record.name)
            and within(record.created_ms, params, "CreationTimeAfter", "CreationTimeBefore")
        ]
        page, token = paged(records, params, {"Name": lambda item: item.name, "CreationTime": lambda item: item.created_ms})
        summaries = [
            {
                "MonitoringJobDefinitionName": record.name,
                "MonitoringJobDefinitionArn": record.arn,
                "CreationTime": to_datetime(record.created_ms),
                "EndpointName": record.details["endpoint"],
            }
            for record in page
        ]
        return drop_none({"JobDefinitionSummaries": summaries, "NextToken": token})

    async def delete_definition(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        record = await find(ctx, kind, params["JobDefinitionName"])
        users = [
            schedule.name
            for schedule in await ctx.runtime.monitoring.of_kind(SCHEDULE, ctx.region)
            if schedule.details.get("job_definition_name") == record.name and schedule.details.get("definition_kind") == kind
        ]
        if users:
            raise AwsError(
                "ResourceInUse",
                f"The {_WORDS[kind]} {record.name} is in use by monitoring schedule {', '.join(users)}: delete the "
                "schedule first.",
            )
        await ctx.runtime.monitoring.delete(record.id)
        await ctx.runtime.tags.remove(record.arn, list(await ctx.runtime.tags.tags(record.arn)))
        return {}

    router.operation(f"Create{prefix}JobDefinition")(create_definition)
    router.operation(f"Describe{prefix}JobDefinition")(describe_definition)
    router.operation(f"List{prefix}JobDefinitions")(list_definitions)
    router.operation(f"Delete{prefix}JobDefinition")(delete_definition)


_definition_operations(DATA_QUALITY, "DataQuality")
_definition_operations(MODEL_QUALITY, "ModelQuality")
