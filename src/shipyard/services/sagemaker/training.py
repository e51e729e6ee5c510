"""Training jobs: CreateTrainingJob, DescribeTrainingJob, ListTrainingJobs, StopTrainingJob."""

from __future__ import annotations

from typing import Any

from shipyard.algorithms import catalog
from shipyard.compute.images import resolve_training_image
from shipyard.compute.metrics import compile_metric_regex
from shipyard.compute.records import Job
from shipyard.errors import AwsError
from shipyard.jobs.spec import Image
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
from shipyard.store.records import to_datetime

router = ServiceRouter("sagemaker")

#: Request members DescribeTrainingJob echoes as they were sent.
_ECHOED = (
    "HyperParameters",
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "VpcConfig",
    "StoppingCondition",
    "CheckpointConfig",
    "DebugHookConfig",
    "ExperimentConfig",
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
    "Environment",
    "RetryStrategy",
    "RemoteDebugConfig",
    "InfraCheckConfig",
)
_FLAGS = ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption", "EnableManagedSpotTraining")


@router.operation("CreateTrainingJob")
async def create_training_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    image, params = await prepare_training(ctx, params)
    defaults = {"StoppingCondition": {"MaxRuntimeInSeconds": 86400}}
    job = await create_job(ctx, "training", params["TrainingJobName"], {**defaults, **params}, image)
    return {"TrainingJobArn": job.arn}


async def prepare_training(ctx: RequestContext, request: dict[str, Any]) -> tuple[Image, dict[str, Any]]:
    """Check a CreateTrainingJob request (or a tuning job's training job definition, in the
    same terms) as SageMaker does, and resolve its image; the image and the request with the
    built-in algorithm's metric definitions added to ``AlgorithmSpecification``."""
    algorithm = request.get("AlgorithmSpecification")
    if not algorithm:
        raise AwsError("ValidationException", "AlgorithmSpecification is required: it names the image to run.")
    resources = request.get("ResourceConfig") or {}
    if not resources.get("InstanceType"):
        raise AwsError(
            "ValidationException",
            "ResourceConfig.InstanceType and InstanceCount are required (heterogeneous InstanceGroups "
            "are not supported by Shipyard).",
        )
    check_capacity(ctx, resources["InstanceType"], int(resources.get("InstanceCount") or 1))
    _check_channels(request.get("InputDataConfig") or [])
    for definition in algorithm.get("MetricDefinitions") or []:
        compile_metric_regex(definition["Name"], definition["Regex"])
    await ctx.runtime.roles.check(request["RoleArn"])
    image = await resolve_training_image(algorithm, request.get("HyperParameters") or {}, ctx.runtime.images.path)
    if image.kind == "builtin":
        request = {**request, "AlgorithmSpecification": with_builtin_metrics(algorithm, image.algorithm)}
    return image, request


def with_builtin_metrics(algorithm: dict[str, Any], module: str) -> dict[str, Any]:
    """``AlgorithmSpecification`` with the built-in algorithm's metric definitions added, as
    SageMaker reports them for its algorithms (user definitions of the same name win)."""
    builtin = catalog.find(module)
    given = list(algorithm.get("MetricDefinitions") or [])
    named = {definition["Name"] for definition in given}
    extra = [definition for definition in builtin.metric_definitions() if definition["Name"] not in named]
    return {**algorithm, "MetricDefinitions": given + extra}


@router.operation("DescribeTrainingJob")
async def describe_training_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    job = await find_job(ctx, "training", params["TrainingJobName"])
    return describe(job, ctx.runtime.supervisor.waiting_message(job))


@router.operation("ListTrainingJobs")
async def list_training_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_jobs(ctx, "training", params)
    summaries = [
        drop_none(
            {
                "TrainingJobName": job.name,
                "TrainingJobArn": job.arn,
                "TrainingEndTime": optional_time(job.details, "end_ms"),
                "TrainingJobStatus": job.status,
                "SecondaryStatus": job.secondary_status,
                **times(job),
            }
        )
        for job in page
    ]
    return drop_none({"TrainingJobSummaries": summaries, "NextToken": token})


@router.operation("StopTrainingJob")
async def stop_training_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await stop_job(ctx, "training", params["TrainingJobName"])
    return {}


def describe(job: Job, waiting: str | None = None) -> dict[str, Any]:
    """DescribeTrainingJob's answer for ``job``; ``waiting`` says why it has not started yet."""
    details = job.details
    if waiting:
        job.set_secondary("Starting", waiting, job.modified_ms)
    request = job.request
    output: dict[str, Any] = {
        "TrainingJobName": job.name,
        "TrainingJobArn": job.arn,
        "TuningJobArn": details.get("tuning_job_arn"),
        "TrainingJobStatus": job.status,
        "SecondaryStatus": job.secondary_status,
        **{key: request[key] for key in _ECHOED if key in request},
        **{flag: bool(request.get(flag)) for flag in _FLAGS},
        **times(job),
        "TrainingStartTime": optional_time(details, "training_start_ms") or optional_time(details, "start_ms"),
        "TrainingEndTime": optional_time(details, "end_ms"),
        "FailureReason": details.get("failure_reason") or None,
        "SecondaryStatusTransitions": [
            drop_none(
                {
                    "Status": item["Status"],
                    "StartTime": to_datetime(item["StartTime"]),
                    "EndTime": None if item["EndTime"] is None else to_datetime(item["EndTime"]),
                    "StatusMessage": item["StatusMessage"],
                }
            )
            for item in details.get("transitions", [])
        ],
    }
    if "OutputDataConfig" in output:  # AWS answers with the KMS key even when none was given
        output["OutputDataConfig"] = {"KmsKeyId": "", **output["OutputDataConfig"]}
    if details.get("model_artifacts"):
        output["ModelArtifacts"] = {"S3ModelArtifacts": details["model_artifacts"]}
    metrics = details.get("final_metrics") or {}
    if metrics:
        output["FinalMetricDataList"] = [
            {"MetricName": name, "Value": value, "Timestamp": to_datetime(at)}
            for name, (value, at) in sorted(metrics.items())
        ]
    if "end_ms" in details and "start_ms" in details:
        started = details.get("training_start_ms", details["start_ms"])
        seconds = max(1, round((details.get("training_end_ms", details["end_ms"]) - started) / 1000))
        output["TrainingTimeInSeconds"] = seconds
        output["BillableTimeInSeconds"] = seconds * job.instance_count
    return drop_none(output)


def _check_channels(channels: list[dict[str, Any]]) -> None:
    check_unique("Channel names", [channel["ChannelName"] for channel in channels])
    for channel in channels:
        source = channel.get("DataSource") or {}
        if "S3DataSource" not in source:
            raise AwsError(
                "ValidationException",
                f"Channel {channel['ChannelName']}: only S3DataSource is supported by Shipyard "
                "(FileSystemDataSource and DatasetSource are not).",
            )
