"""Batch transform jobs: CreateTransformJob, DescribeTransformJob, ListTransformJobs, StopTransformJob.

A transform job runs as a job of kind ``transform`` (one runner per instance, see
:mod:`shipyard.jobs.transform`), as the model's ``ExecutionRoleArn``. The model's
containers are resolved when the job is created, so that deleting or replacing the model
afterwards does not change what the job runs (as on SageMaker).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shipyard.compute.records import Job
from shipyard.errors import AwsError
from shipyard.jobs.jsonpath import JsonPath, JsonPathError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.hosting import find_record
from shipyard.services.sagemaker.jobs import (
    check_capacity,
    create_job,
    drop_none,
    find_job,
    list_jobs,
    optional_time,
    stop_job,
    times,
)
from shipyard.serving.models import inference_mode, model_containers
from shipyard.store.records import to_datetime

router = ServiceRouter("sagemaker")

#: Request members DescribeTransformJob echoes (with the defaults filled in at creation).
_ECHOED = (
    "ModelName",
    "MaxConcurrentTransforms",
    "ModelClientConfig",
    "MaxPayloadInMB",
    "BatchStrategy",
    "Environment",
    "TransformInput",
    "TransformOutput",
    "TransformResources",
    "DataProcessing",
    "ExperimentConfig",
)
#: SageMaker's limit on MaxPayloadInMB, and on MaxPayloadInMB x MaxConcurrentTransforms.
MAX_PAYLOAD_MB = 100
DEFAULT_MAX_PAYLOAD_MB = 6


@router.operation("CreateTransformJob")
async def create_transform_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    resources = params["TransformResources"]
    check_capacity(ctx, resources["InstanceType"], int(resources["InstanceCount"]))
    params = _with_defaults(params)
    _check_input(params["TransformInput"])
    _check_s3_uri("TransformOutput.S3OutputPath", params["TransformOutput"]["S3OutputPath"])
    _check_payload(params)
    _check_filters(params["DataProcessing"])
    if params.get("DataCaptureConfig"):
        raise AwsError("ValidationException", "DataCaptureConfig is not supported by Shipyard for batch transform jobs.")
    model = await find_record(ctx, "model", params["ModelName"])
    role = model.request.get("ExecutionRoleArn") or ""
    if not role:
        raise AwsError(
            "ValidationException",
            f"The model {model.name} has no ExecutionRoleArn: a transform job reads its input and writes its "
            "output as the model's execution role.",
        )
    await ctx.runtime.roles.check(role)
    containers = await model_containers(model, ctx.runtime.images.path)
    resolved = {
        "containers": [asdict(container) for container in containers],
        "mode": inference_mode(model.request),
        "role_arn": role,
    }
    job = await create_job(
        ctx, "transform", params["TransformJobName"], params, containers[0].image, details={"model": resolved}
    )
    return {"TransformJobArn": job.arn}


@router.operation("DescribeTransformJob")
async def describe_transform_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return describe(await find_job(ctx, "transform", params["TransformJobName"]))


@router.operation("ListTransformJobs")
async def list_transform_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_jobs(ctx, "transform", params)
    summaries = [
        drop_none(
            {
                "TransformJobName": job.name,
                "TransformJobArn": job.arn,
                "TransformJobStatus": job.status,
                "TransformEndTime": optional_time(job.details, "end_ms"),
                "FailureReason": job.details.get("failure_reason") or None,
                **times(job),
            }
        )
        for job in page
    ]
    return drop_none({"TransformJobSummaries": summaries, "NextToken": token})


@router.operation("StopTransformJob")
async def stop_transform_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await stop_job(ctx, "transform", params["TransformJobName"])
    return {}


def describe(job: Job) -> dict[str, Any]:
    """DescribeTransformJob's answer for ``job``."""
    details = job.details
    return drop_none(
        {
            "TransformJobName": job.name,
            "TransformJobArn": job.arn,
            "TransformJobStatus": job.status,
            **{key: job.request[key] for key in _ECHOED if key in job.request},
            "CreationTime": to_datetime(job.created_ms),
            "TransformStartTime": optional_time(details, "start_ms"),
            "TransformEndTime": optional_time(details, "end_ms"),
            "FailureReason": details.get("failure_reason") or None,
        }
    )


def _with_defaults(params: dict[str, Any]) -> dict[str, Any]:
    """The request with what SageMaker fills in when it is left out (DescribeTransformJob shows it)."""
    given = params["TransformInput"]
    output = params["TransformOutput"]
    return {
        "MaxConcurrentTransforms": 1,
        "MaxPayloadInMB": DEFAULT_MAX_PAYLOAD_MB,
        "BatchStrategy": "MultiRecord",
        **{key: value for key, value in params.items() if value is not None},
        "TransformInput": {"CompressionType": "None", "SplitType": "None", **given},
        "TransformOutput": {"AssembleWith": "None", "KmsKeyId": "", **output},
        "DataProcessing": {"InputFilter": "$", "OutputFilter": "$", "JoinSource": "None", **(params.get("DataProcessing") or {})},
    }


def _check_input(given: dict[str, Any]) -> None:
    if given["SplitType"] in ("RecordIO", "TFRecord"):
        raise AwsError(
            "ValidationException",
            f"SplitType {given['SplitType']} is not supported by Shipyard: use Line (one record per line) or None.",
        )
    source = given["DataSource"]["S3DataSource"]
    if source["S3DataType"] not in ("S3Prefix", "ManifestFile"):
        raise AwsError(
            "ValidationException",
            f"S3DataType {source['S3DataType']} is not supported by Shipyard for batch transform: use S3Prefix or ManifestFile.",
        )
    _check_s3_uri("TransformInput.DataSource.S3DataSource.S3Uri", source["S3Uri"])


def _check_s3_uri(member: str, uri: str) -> None:
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise AwsError("ValidationException", f"{member} must be an S3 URI (s3://bucket/prefix), not {uri!r}.")


def _check_payload(params: dict[str, Any]) -> None:
    payload, concurrency = int(params["MaxPayloadInMB"]), int(params["MaxConcurrentTransforms"])
    if payload > MAX_PAYLOAD_MB:
        raise AwsError("ValidationException", f"MaxPayloadInMB must be at most {MAX_PAYLOAD_MB}; it is {payload}.")
    if payload * max(concurrency, 1) > MAX_PAYLOAD_MB:
        raise AwsError(
            "ValidationException",
            f"MaxConcurrentTransforms x MaxPayloadInMB must be at most {MAX_PAYLOAD_MB} MB; it is "
            f"{concurrency} x {payload} MB.",
        )


def _check_filters(processing: dict[str, Any]) -> None:
    for member in ("InputFilter", "OutputFilter"):
        try:
            JsonPath.parse(processing[member] or "$")
        except JsonPathError as error:
            raise AwsError("ValidationException", f"DataProcessing.{member}: {error}.") from None
