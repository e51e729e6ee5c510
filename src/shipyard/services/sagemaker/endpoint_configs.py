"""Endpoint configurations: CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs,
DeleteEndpointConfig."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.hosting import (
    create_record,
    creation_time,
    delete_record,
    find_record,
    list_records,
)
from shipyard.services.sagemaker.jobs import check_capacity, check_unique, drop_none

router = ServiceRouter("sagemaker")

#: Request members DescribeEndpointConfig echoes as they were sent.
_ECHOED = ("KmsKeyId", "ExecutionRoleArn", "VpcConfig", "EnableNetworkIsolation")
#: Members naming what Shipyard does not serve, and what each is.
_UNSUPPORTED = {
    "AsyncInferenceConfig": "asynchronous inference",
    "ShadowProductionVariants": "shadow variants",
    "ExplainerConfig": "online explainability",
}


@router.operation("CreateEndpointConfig")
async def create_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    for member, what in _UNSUPPORTED.items():
        if params.get(member):
            raise AwsError("ValidationException", f"{member} is not supported by Shipyard ({what} is not served).")
    variants = params["ProductionVariants"]
    check_unique("Variant names", [variant["VariantName"] for variant in variants])
    for variant in variants:
        _check_variant(ctx, variant)
    if capture := params.get("DataCaptureConfig"):
        _check_capture(capture)
    for variant in variants:
        await find_record(ctx, "model", variant["ModelName"])
    if params.get("ExecutionRoleArn"):
        await ctx.runtime.roles.check(params["ExecutionRoleArn"])
    record = await create_record(ctx, "endpoint-config", params["EndpointConfigName"], params, "Created", {})
    return {"EndpointConfigArn": record.arn}


@router.operation("DescribeEndpointConfig")
async def describe_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    config = await find_record(ctx, "endpoint-config", params["EndpointConfigName"])
    request = config.request
    output: dict[str, Any] = {
        "EndpointConfigName": config.name,
        "EndpointConfigArn": config.arn,
        "ProductionVariants": [{**variant, "InitialVariantWeight": variant_weight(variant)} for variant in request["ProductionVariants"]],
        **{key: request[key] for key in _ECHOED if key in request},
        **creation_time(config),
    }
    if "DataCaptureConfig" in request:
        output["DataCaptureConfig"] = {"EnableCapture": True, **request["DataCaptureConfig"]}
    return output


@router.operation("ListEndpointConfigs")
async def list_endpoint_configs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_records(ctx, "endpoint-config", params)
    summaries = [
        {"EndpointConfigName": config.name, "EndpointConfigArn": config.arn, **creation_time(config)} for config in page
    ]
    return drop_none({"EndpointConfigs": summaries, "NextToken": token})


@router.operation("DeleteEndpointConfig")
async def delete_endpoint_config(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await delete_record(ctx, "endpoint-config", params["EndpointConfigName"])
    return {}


def variant_weight(variant: dict[str, Any]) -> float:
    """A production variant's ``InitialVariantWeight`` (1.0 unless given)."""
    return float(variant.get("InitialVariantWeight", 1.0))


def _check_variant(ctx: RequestContext, variant: dict[str, Any]) -> None:
    """A variant runs a model on instances of one type, or serverless; never both."""
    name = variant["VariantName"]
    if not variant.get("ModelName"):
        raise AwsError("ValidationException", f"Production variant {name} needs a ModelName.")
    serverless = variant.get("ServerlessConfig")
    instance_type = variant.get("InstanceType")
    if bool(serverless) == bool(instance_type):
        raise AwsError(
            "ValidationException",
            f"Production variant {name} must specify either InstanceType (with InitialInstanceCount) "
            "or ServerlessConfig, not both nor neither.",
        )
    if serverless:
        if serverless["MemorySizeInMB"] % 1024:
            raise AwsError(
                "ValidationException",
                f"Production variant {name}: ServerlessConfig.MemorySizeInMB must be 1024, 2048, 3072, 4096, "
                "5120 or 6144.",
            )
        if serverless.get("ProvisionedConcurrency", 0) > serverless["MaxConcurrency"]:
            raise AwsError(
                "ValidationException",
                f"Production variant {name}: ServerlessConfig.ProvisionedConcurrency cannot exceed MaxConcurrency.",
            )
        return
    count = variant.get("InitialInstanceCount")
    if count is None:
        raise AwsError("ValidationException", f"Production variant {name} needs an InitialInstanceCount with its InstanceType.")
    check_capacity(ctx, instance_type, count)


def _check_capture(capture: dict[str, Any]) -> None:
    destination = capture["DestinationS3Uri"]
    if not destination.startswith("s3://"):
        raise AwsError(
            "ValidationException", f"DataCaptureConfig.DestinationS3Uri must be an S3 URI (s3://bucket/prefix), not {destination}."
        )
    check_unique("DataCaptureConfig.CaptureOptions modes", [option["CaptureMode"] for option in capture["CaptureOptions"]])
