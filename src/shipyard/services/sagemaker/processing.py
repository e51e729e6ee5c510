"""Processing jobs: CreateProcessingJob, DescribeProcessingJob, ListProcessingJobs, StopProcessingJob."""

from __future__ import annotations

from typing import Any

from shipyard.compute.images import resolve_processing_image
from shipyard.compute.records import Job
from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.jobs import (
    check_capacity,
    check_unique,
    create_job,
    drop_none,
    find_job,
    list_jobs,
    optional_time,
    stop_job,
    times,
)

router = ServiceRouter("sagemaker")

_ECHOED = (
    "ProcessingInputs",
    "ProcessingOutputConfig",
    "ProcessingResources",
    "StoppingCondition",
    "AppSpecification",
    "Environment",
    "NetworkConfig",
    "RoleArn",
    "ExperimentConfig",
)


@router.operation("CreateProcessingJob")
async def create_processing_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    cluster = params["ProcessingResources"]["ClusterConfig"]
    check_capacity(ctx, cluster["InstanceType"], int(cluster["InstanceCount"]))
    check_unique("ProcessingInputs names", [item["InputName"] for item in params.get("ProcessingInputs") or []])
    outputs = (params.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    check_unique("ProcessingOutputConfig.Outputs names", [item["OutputName"] for item in outputs])
    for item in params.get("ProcessingInputs") or []:
        if "S3Input" not in item:
            raise AwsError(
                "ValidationException",
                f"Processing input {item['InputName']}: only S3Input is supported by Shipyard (DatasetDefinition is not).",
            )
    for item in outputs:
        if "S3Output" not in item:
            raise AwsError(
                "ValidationException",
                f"Processing output {item['OutputName']}: only S3Output is supported by Shipyard (FeatureStoreOutput is not).",
            )
    await ctx.runtime.roles.check(params["RoleArn"])
    image = await resolve_processing_image(params["AppSpecification"], ctx.runtime.images.path)
    defaults = {"StoppingCondition": {"MaxRuntimeInSeconds": 86400}}
    job = await create_job(ctx, "processing", params["ProcessingJobName"], {**defaults, **params}, image)
    return {"ProcessingJobArn": job.arn}


@router.operation("DescribeProcessingJob")
async def describe_processing_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    return describe(await find_job(ctx, "processing", params["ProcessingJobName"]))


@router.operation("ListProcessingJobs")
async def list_processing_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_jobs(ctx, "processing", params)
    summaries = [
        drop_none(
            {
                "ProcessingJobName": job.name,
                "ProcessingJobArn": job.arn,
                "ProcessingEndTime": optional_time(job.details, "end_ms"),
                "ProcessingJobStatus": job.status,
                "FailureReason": job.details.get("failure_reason") or None,
                "ExitMessage": job.details.get("exit_message") or None,
                **times(job),
            }
        )
        for job in page
    ]
    return drop_none({"ProcessingJobSummaries": summaries, "NextToken": token})


@router.operation("StopProcessingJob")
async def stop_processing_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await stop_job(ctx, "processing", params["ProcessingJobName"])
    return {}


def describe(job: Job) -> dict[str, Any]:
    """DescribeProcessingJob's answer for ``job``."""
    details = job.details
    return drop_none(
        {
            "ProcessingJobName": job.name,
            "ProcessingJobArn": job.arn,
            "ProcessingJobStatus": job.status,
            **{key: job.request[key] for key in _ECHOED if key in job.request},
            **times(job),
            "ProcessingStartTime": optional_time(details, "start_ms"),
            "ProcessingEndTime": optional_time(details, "end_ms"),
            "FailureReason": details.get("failure_reason") or None,
            "ExitMessage": details.get("exit_message") or None,
        }
    )
