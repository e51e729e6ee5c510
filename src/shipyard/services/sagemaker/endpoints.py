"""Endpoints: CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities, DeleteEndpoint.

Each operation records what it wants in the endpoint's row and wakes the fleet
(:mod:`shipyard.serving.fleet`), which starts, switches and stops the workers.
"""

from __future__ import annotations

from typing import Any

from shipyard.compute.capacity import MachineCapacity, check_fits
from shipyard.compute.instances import instance_type
from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.hosting import (
    create_record,
    find_record,
    hosting_arn,
    list_records,
    times,
)
from shipyard.services.sagemaker.jobs import drop_none
from shipyard.serving import records as status
from shipyard.serving.fleet import LOG_GROUP_PREFIX, variant_plan
from shipyard.serving.models import container_definitions
from shipyard.serving.records import HostingRecord
from shipyard.store.records import now_ms, to_datetime

router = ServiceRouter("sagemaker")

#: Variant properties UpdateEndpoint's RetainAllVariantProperties keeps, by the names
#: ExcludeRetainedVariantProperties uses.
_RETAINED = {"DesiredWeight": "desired_weight", "DesiredInstanceCount": "desired_count"}


@router.operation("CreateEndpoint")
async def create_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["EndpointName"]
    config = await find_record(ctx, "endpoint-config", params["EndpointConfigName"])
    variants = await _plan(ctx, config)
    details = {
        "config": config.name,
        "variants": variants,
        "data_capture": config.request.get("DataCaptureConfig"),
        "log_group": LOG_GROUP_PREFIX + name,
    }
    record = await create_record(ctx, "endpoint", name, params, status=status.CREATING, details=details)
    ctx.runtime.fleet.wake()
    return {"EndpointArn": record.arn}


@router.operation("DescribeEndpoint")
async def describe_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    record = await find_record(ctx, "endpoint", params["EndpointName"])
    return describe(record)


@router.operation("ListEndpoints")
async def list_endpoints(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_records(ctx, "endpoint", params)
    summaries = [
        {
            "EndpointName": record.name,
            "EndpointArn": record.arn,
            "EndpointStatus": record.status,
            **times(record),
        }
        for record in page
    ]
    return drop_none({"Endpoints": summaries, "NextToken": token})


@router.operation("UpdateEndpoint")
async def update_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = await find_record(ctx, "endpoint", params["EndpointName"])
    config = await find_record(ctx, "endpoint-config", params["EndpointConfigName"])
    variants = await _plan(ctx, config)
    excluded = {item["VariantPropertyType"] for item in params.get("ExcludeRetainedVariantProperties") or []}

    def update(stored: HostingRecord) -> None:
        _check_updatable(stored)
        if params.get("RetainAllVariantProperties"):
            for name, variant in variants.items():
                current = stored.details["variants"].get(name)
                for property_name, key in _RETAINED.items():
                    if current is not None and property_name not in excluded:
                        variant[key] = current[key]
                variant["current_weight"] = variant["desired_weight"]
        stored.details.pop("failure_reason", None)
        stored.details["pending_config"] = config.name
        stored.details["pending_variants"] = variants
        stored.details["pending_data_capture"] = config.request.get("DataCaptureConfig")
        stored.details["pending_since_ms"] = now_ms()
        stored.status = status.UPDATING

    record, _ = await ctx.runtime.hosting.mutate(endpoint.id, update)
    ctx.runtime.fleet.wake()
    return {"EndpointArn": record.arn}


@router.operation("UpdateEndpointWeightsAndCapacities")
async def update_weights_and_capacities(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = await find_record(ctx, "endpoint", params["EndpointName"])
    wanted = params["DesiredWeightsAndCapacities"]
    names = [item["VariantName"] for item in wanted]
    if len(set(names)) != len(names):
        raise AwsError("ValidationException", "Each variant may appear only once in DesiredWeightsAndCapacities.")
    for item in wanted:
        if "DesiredWeight" not in item and "DesiredInstanceCount" not in item:
            raise AwsError(
                "ValidationException",
                f"Variant {item['VariantName']}: give a DesiredWeight, a DesiredInstanceCount or both.",
            )
        if item.get("DesiredInstanceCount") is not None and int(item["DesiredInstanceCount"]) < 1:
            raise AwsError("ValidationException", "DesiredInstanceCount must be at least 1.")

    def update(stored: HostingRecord) -> None:
        _check_updatable(stored)
        variants = stored.details["variants"]
        unknown = [name for name in names if name not in variants]
        if unknown:
            raise AwsError(
                "ValidationException",
                f"The variant(s) [{', '.join(unknown)}] are not present in endpoint {stored.name}.",
            )
        for item in wanted:
            variant = variants[item["VariantName"]]
            if item.get("DesiredWeight") is not None:
                variant["desired_weight"] = float(item["DesiredWeight"])
            if item.get("DesiredInstanceCount") is not None:
                count = int(item["DesiredInstanceCount"])
                check_fits(variant["instance_type"], count, ctx.runtime.capacity)
                variant["desired_count"] = count
        stored.details.pop("failure_reason", None)
        stored.status = status.UPDATING

    record, _ = await ctx.runtime.hosting.mutate(endpoint.id, update)
    ctx.runtime.fleet.wake()
    return {"EndpointArn": record.arn}


@router.operation("DeleteEndpoint")
async def delete_endpoint(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    endpoint = await find_record(ctx, "endpoint", params["EndpointName"])

    def delete(stored: HostingRecord) -> None:
        stored.details["deleting"] = True
        stored.status = status.DELETING

    await ctx.runtime.hosting.mutate(endpoint.id, delete)
    await ctx.runtime.tags.remove(endpoint.arn, list(await ctx.runtime.tags.tags(endpoint.arn)))
    ctx.runtime.fleet.wake()
    return {}


def describe(record: HostingRecord) -> dict[str, Any]:
    """DescribeEndpoint's answer for ``record``."""
    details = record.details
    output: dict[str, Any] = {
        "EndpointName": record.name,
        "EndpointArn": record.arn,
        "EndpointConfigName": details["config"],
        "EndpointStatus": record.status,
        "FailureReason": details.get("failure_reason"),
        **times(record),
    }
    if record.status != status.CREATING or any(v["instances"] for v in details["variants"].values()):
        output["ProductionVariants"] = [_variant_summary(name, variant) for name, variant in details["variants"].items()]
    capture = _capture_summary(details.get("data_capture"))
    if capture:
        output["DataCaptureConfig"] = capture
    if details.get("pending_variants"):
        output["PendingDeploymentSummary"] = drop_none(
            {
                "EndpointConfigName": details["pending_config"],
                "ProductionVariants": [
                    {**_variant_summary(name, variant), "VariantStatus": _pending_status(variant)}
                    for name, variant in details["pending_variants"].items()
                ],
                "StartTime": to_datetime(details["pending_since_ms"]),
            }
        )
    return drop_none(output)


def _variant_summary(name: str, variant: dict[str, Any]) -> dict[str, Any]:
    deployed = to_datetime(variant["deployed_at_ms"])
    summary: dict[str, Any] = {
        "VariantName": name,
        "DeployedImages": [
            {"SpecifiedImage": container["Image"], "ResolvedImage": container["Image"], "ResolutionTime": deployed}
            for container in container_definitions(variant["model_request"])
        ],
        "CurrentWeight": float(variant["current_weight"]),
        "DesiredWeight": float(variant["desired_weight"]),
        "CurrentInstanceCount": sum(1 for instance in variant["instances"].values() if instance["healthy"]),
        "DesiredInstanceCount": int(variant["desired_count"]),
    }
    if variant.get("serverless"):
        summary["CurrentServerlessConfig"] = variant["serverless"]
        summary["DesiredServerlessConfig"] = variant["serverless"]
    return summary


def _pending_status(variant: dict[str, Any]) -> list[dict[str, Any]]:
    healthy = sum(1 for instance in variant["instances"].values() if instance["healthy"])
    return [
        {
            "Status": "Creating",
            "StatusMessage": f"{healthy} of {variant['desired_count']} instances are healthy",
            "StartTime": to_datetime(variant["deployed_at_ms"]),
        }
    ]


def _capture_summary(config: dict[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    enabled = config.get("EnableCapture", True)
    return drop_none(
        {
            "EnableCapture": enabled,
            "CaptureStatus": "Started" if enabled else "Stopped",
            "CurrentSamplingPercentage": config["InitialSamplingPercentage"],
            "DestinationS3Uri": config["DestinationS3Uri"],
            "KmsKeyId": config.get("KmsKeyId"),
        }
    )


def _check_updatable(endpoint: HostingRecord) -> None:
    if endpoint.status != status.IN_SERVICE:
        raise AwsError(
            "ValidationException",
            f'Cannot update in-progress endpoint "{endpoint.arn}".'
            if endpoint.status != status.FAILED
            else f'Cannot update failed endpoint "{endpoint.arn}".',
        )


async def _plan(ctx: RequestContext, config: HostingRecord) -> dict[str, dict[str, Any]]:
    """The variants of ``config`` with their models (which must still exist), checked to fit
    this server's capacity."""
    models: dict[str, dict[str, Any]] = {}
    for variant in config.request["ProductionVariants"]:
        model = await ctx.runtime.hosting.get("model", ctx.region, variant["ModelName"])
        if model is None:
            arn = hosting_arn(ctx, "model", variant["ModelName"])
            raise AwsError("ValidationException", f'Could not find model "{arn}".')
        models[model.name] = {**model.request, "ModelName": model.name}
    plan = variant_plan(config.request, models)
    for variant in plan.values():
        check_fits(variant["instance_type"], int(variant["desired_count"]), ctx.runtime.capacity)
    _check_total(plan, ctx.runtime.capacity)
    return plan


def _check_total(plan: dict[str, dict[str, Any]], capacity: MachineCapacity) -> None:
    """``ResourceLimitExceeded`` when the variants fit one by one but never all at once."""
    kinds = [(instance_type(variant["instance_type"]), int(variant["desired_count"])) for variant in plan.values()]
    needed = MachineCapacity(
        cpus=sum(kind.vcpus * count for kind, count in kinds if kind),
        memory_mib=sum(kind.memory_mib * count for kind, count in kinds if kind),
        gpus=sum(kind.gpus * count for kind, count in kinds if kind),
    )
    if needed.cpus > capacity.cpus or needed.memory_mib > capacity.memory_mib or needed.gpus > capacity.gpus:
        raise AwsError(
            "ResourceLimitExceeded",
            f"The endpoint's variants need {needed.cpus} vCPUs, {needed.memory_mib} MiB of memory and "
            f"{needed.gpus} GPUs together; this Shipyard server offers {capacity.cpus} vCPUs, "
            f"{capacity.memory_mib} MiB and {capacity.gpus} GPUs (shipyard up --cpus/--memory/--gpus)",
        )
