"""Hyperparameter tuning jobs: CreateHyperParameterTuningJob, DescribeHyperParameterTuningJob,
ListHyperParameterTuningJobs, ListTrainingJobsForHyperParameterTuningJob and
StopHyperParameterTuningJob. The tuner (:mod:`shipyard.tuning.tuner`) runs the trials."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.sagemaker.jobs import (
    check_unique,
    drop_none,
    json_safe,
    list_page,
    optional_time,
)
from shipyard.services.sagemaker.training import prepare_training
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms, to_datetime
from shipyard.tuning.ranges import CategoricalRange, parse_ranges
from shipyard.tuning.records import KIND, TuningJob
from shipyard.tuning.strategies import grid_size
from shipyard.tuning.trials import ENDED

router = ServiceRouter("sagemaker")

#: Members of a training job definition that CreateTrainingJob does not have.
_TUNING_ONLY = (
    "DefinitionName",
    "TuningObjective",
    "HyperParameterRanges",
    "StaticHyperParameters",
    "HyperParameterTuningResourceConfig",
)
#: Statuses a warm start parent may be in (AWS: "all parent jobs must be in a terminal state").


@router.operation("CreateHyperParameterTuningJob")
async def create_hyper_parameter_tuning_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["HyperParameterTuningJobName"]
    config = params["HyperParameterTuningJobConfig"]
    _check_strategy(config)
    sent = _definitions(params)
    definitions = [await _prepare_definition(ctx, config, definition) for definition in sent]
    if config["Strategy"] == "Grid":
        config = _with_grid_size(config, definitions)
    if params.get("WarmStartConfig"):
        await _check_parents(ctx, params["WarmStartConfig"], definitions)
    at = now_ms()
    job = TuningJob(
        id=0,
        kind=KIND,
        region=ctx.region,
        name=name,
        arn=tuning_job_arn(ctx, name),
        status="InProgress",
        request=json_safe(
            {key: value for key, value in params.items() if key != "Tags"} | {"HyperParameterTuningJobConfig": config}
        ),
        details={"definitions": definitions, "trials": {}},
        created_ms=at,
        modified_ms=at,
    )
    try:
        job = await ctx.runtime.tuning.create(job)
    except RecordExists:
        raise AwsError(
            "ResourceInUse",
            f"A hyperparameter tuning job with the name, {name}, already exists. Choose a different name.",
        ) from None
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    if tags:
        await ctx.runtime.tags.set(job.arn, tags)
    ctx.runtime.tuner.wake()
    return {"HyperParameterTuningJobArn": job.arn}


@router.operation("DescribeHyperParameterTuningJob")
async def describe_hyper_parameter_tuning_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    job = await _find(ctx, params["HyperParameterTuningJobName"])
    details = job.details
    request = job.request
    output: dict[str, Any] = {
        "HyperParameterTuningJobName": job.name,
        "HyperParameterTuningJobArn": job.arn,
        "HyperParameterTuningJobConfig": {"TrainingJobEarlyStoppingType": "Off", **job.config},
        "TrainingJobDefinition": request.get("TrainingJobDefinition"),
        "TrainingJobDefinitions": request.get("TrainingJobDefinitions"),
        "HyperParameterTuningJobStatus": job.status,
        "CreationTime": to_datetime(job.created_ms),
        "HyperParameterTuningEndTime": optional_time(details, "end_ms"),
        "LastModifiedTime": to_datetime(job.modified_ms),
        **_counters(job),
        "BestTrainingJob": _best(job, details.get("best")),
        "OverallBestTrainingJob": _best(job, details.get("overall_best")),
        "WarmStartConfig": request.get("WarmStartConfig"),
        "FailureReason": details.get("failure_reason") or None,
        "TuningJobCompletionDetails": drop_none(
            {
                "NumberOfTrainingJobsObjectiveNotImproving": details.get("not_improving", 0),
                "ConvergenceDetectedTime": optional_time(details, "converged_ms"),
            }
        ),
        "ConsumedResources": {"RuntimeInSeconds": (details.get("end_ms", now_ms()) - job.created_ms) // 1000},
    }
    return drop_none(output)


@router.operation("ListHyperParameterTuningJobs")
async def list_hyper_parameter_tuning_jobs(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    page, token = await list_page(params, lambda query: ctx.runtime.tuning.list(KIND, ctx.region, query))
    summaries = [
        drop_none(
            {
                "HyperParameterTuningJobName": job.name,
                "HyperParameterTuningJobArn": job.arn,
                "HyperParameterTuningJobStatus": job.status,
                "Strategy": job.config["Strategy"],
                "CreationTime": to_datetime(job.created_ms),
                "HyperParameterTuningEndTime": optional_time(job.details, "end_ms"),
                "LastModifiedTime": to_datetime(job.modified_ms),
                **_counters(job),
                "ResourceLimits": job.config["ResourceLimits"],
            }
        )
        for job in page
    ]
    return drop_none({"HyperParameterTuningJobSummaries": summaries, "NextToken": token})


@router.operation("ListTrainingJobsForHyperParameterTuningJob")
async def list_training_jobs_for_hyper_parameter_tuning_job(
    ctx: RequestContext, params: dict[str, Any]
) -> dict[str, Any]:
    job = await _find(ctx, params["HyperParameterTuningJobName"])
    trials = list(job.details.get("trials", {}).items())
    if params.get("StatusEquals"):
        trials = [(name, trial) for name, trial in trials if trial["status"] == params["StatusEquals"]]
    sort_by = params.get("SortBy") or "Name"
    if sort_by == "FinalObjectiveMetricValue":  # AWS: jobs without an objective value are not listed
        trials = [(name, trial) for name, trial in trials if trial.get("objective") is not None]
    key = {
        "Name": lambda item: item[0],
        "CreationTime": lambda item: item[1]["created_ms"],
        "Status": lambda item: item[1]["status"],
        "FinalObjectiveMetricValue": lambda item: item[1]["objective"],
    }[sort_by]
    trials.sort(key=key, reverse=params.get("SortOrder") == "Descending")
    start = 0
    if params.get("NextToken"):
        token = params["NextToken"]
        if not token.isdigit() or int(token) > len(trials):
            raise AwsError("ValidationException", "Invalid pagination token.")
        start = int(token)
    limit = params.get("MaxResults") or 10
    page = trials[start : start + limit]
    output: dict[str, Any] = {"TrainingJobSummaries": [_summary(job, name, trial) for name, trial in page]}
    if start + limit < len(trials):
        output["NextToken"] = str(start + limit)
    return output


@router.operation("StopHyperParameterTuningJob")
async def stop_hyper_parameter_tuning_job(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    job = await _find(ctx, params["HyperParameterTuningJobName"])

    def stop(stored: TuningJob) -> None:
        if stored.status != "InProgress":
            raise AwsError(
                "ValidationException",
                f"The request was rejected because the hyperparameter tuning job is in status {stored.status}.",
            )
        stored.status = "Stopping"
        stored.details["stop_reason"] = "user"

    await ctx.runtime.tuning.mutate(job.id, stop)
    ctx.runtime.tuner.wake()
    return {}


def tuning_job_arn(ctx: RequestContext, name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:hyper-parameter-tuning-job/<name>`` (lower-cased, as AWS does)."""
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:hyper-parameter-tuning-job/{name.lower()}"


def _training_request(definition: dict[str, Any]) -> dict[str, Any]:
    """A training job definition in CreateTrainingJob's terms (without the name): the static
    hyperparameters as ``HyperParameters``; ``HyperParameterTuningResourceConfig`` (its
    instance, or the first of its ``InstanceConfigs``) as ``ResourceConfig`` when none is given."""
    request = {key: value for key, value in definition.items() if key not in _TUNING_ONLY}
    request["HyperParameters"] = dict(definition.get("StaticHyperParameters") or {})
    tuning = definition.get("HyperParameterTuningResourceConfig")
    if "ResourceConfig" not in request and tuning:
        instance = tuning if tuning.get("InstanceType") else (tuning.get("InstanceConfigs") or [{}])[0]
        request["ResourceConfig"] = {
            "InstanceType": instance.get("InstanceType"),
            "InstanceCount": instance.get("InstanceCount") or 1,
            "VolumeSizeInGB": instance.get("VolumeSizeInGB") or tuning.get("VolumeSizeInGB") or 30,
        }
    return request


async def _find(ctx: RequestContext, name: str) -> TuningJob:
    job = await ctx.runtime.tuning.get(KIND, ctx.region, name)
    if job is None:
        raise AwsError("ResourceNotFound", f"Amazon SageMaker can't find a tuning job called {name}. Type another name.")
    return job


def _check_strategy(config: dict[str, Any]) -> None:
    """The strategy's own rules: its resource limits, Hyperband's configuration."""
    strategy = config["Strategy"]
    hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")
    if strategy == "Hyperband":
        if config.get("TrainingJobEarlyStoppingType") == "Auto":
            raise AwsError(
                "ValidationException",
                "TrainingJobEarlyStoppingType must be Off with the Hyperband strategy: Hyperband has its own "
                "internal early stopping mechanism.",
            )
        low, high = (hyperband or {}).get("MinResource"), (hyperband or {}).get("MaxResource")
        if low is not None and high is not None and low > high:
            raise AwsError(
                "ValidationException",
                f"HyperbandStrategyConfig.MinResource ({low}) must be less than or equal to MaxResource ({high}).",
            )
    elif config.get("StrategyConfig"):
        raise AwsError("ValidationException", "StrategyConfig can be provided only with the Hyperband strategy.")
    if strategy != "Grid" and not config["ResourceLimits"].get("MaxNumberOfTrainingJobs"):
        raise AwsError(
            "ValidationException", f"ResourceLimits.MaxNumberOfTrainingJobs is required for the {strategy} strategy."
        )


def _definitions(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The training job definitions as sent: ``TrainingJobDefinition`` xor ``TrainingJobDefinitions``."""
    single, several = params.get("TrainingJobDefinition"), params.get("TrainingJobDefinitions")
    if (single is None) == (several is None):
        raise AwsError(
            "ValidationException", "Exactly one of TrainingJobDefinition or TrainingJobDefinitions must be specified."
        )
    if single is not None:
        return [single]
    if len(several) > 1:
        names = [definition.get("DefinitionName") for definition in several]
        if not all(names):
            raise AwsError(
                "ValidationException",
                "Each of several TrainingJobDefinitions must have a DefinitionName.",
            )
        check_unique("Training job definition names", names)
    return several


async def _prepare_definition(ctx: RequestContext, config: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    """Check one training job definition and resolve it: what the tuner keeps of it."""
    objective = definition.get("TuningObjective") or config.get("HyperParameterTuningJobObjective")
    if not objective:
        raise AwsError(
            "ValidationException",
            "HyperParameterTuningJobObjective is required unless every training job definition has a TuningObjective.",
        )
    sent_ranges = definition.get("HyperParameterRanges") or config.get("ParameterRanges") or {}
    ranges = parse_ranges(sent_ranges)
    if config["Strategy"] == "Grid" and not all(isinstance(item, CategoricalRange) for item in ranges):
        raise AwsError(
            "ValidationException",
            "Grid search strategy supports only categorical parameter ranges: remove the Integer and Continuous "
            "parameter ranges or choose another strategy.",
        )
    tuned = {item.name for item in ranges}
    static = sorted(tuned & set(definition.get("StaticHyperParameters") or {}))
    if static:
        raise AwsError(
            "ValidationException",
            f"Hyperparameters {', '.join(static)} are both static (StaticHyperParameters) and tuned (ParameterRanges).",
        )
    image, training = await prepare_training(ctx, _training_request(definition))
    metrics = [metric["Name"] for metric in training["AlgorithmSpecification"].get("MetricDefinitions") or []]
    if objective["MetricName"] not in metrics:
        raise AwsError(
            "ValidationException",
            f"The objective metric {objective['MetricName']!r} is not among the training job definition's metric "
            f"definitions ({', '.join(metrics) or 'none'}).",
        )
    return {
        "name": definition.get("DefinitionName") or "",
        "image": asdict(image),
        "algorithm": training["AlgorithmSpecification"],
        "training": training,
        "objective": {"Type": objective["Type"], "MetricName": objective["MetricName"]},
        "ranges": sent_ranges,
        "definition": definition,
    }


def _with_grid_size(config: dict[str, Any], definitions: list[dict[str, Any]]) -> dict[str, Any]:
    """``config`` with MaxNumberOfTrainingJobs set to the size of the grid. AWS computes it when
    it is left out, and otherwise wants it equal to the number of distinct combinations."""
    size = sum(grid_size(parse_ranges(definition["ranges"])) for definition in definitions)
    limits = config["ResourceLimits"]
    given = limits.get("MaxNumberOfTrainingJobs")
    if given is not None and given != size:
        raise AwsError(
            "ValidationException",
            f"With the Grid strategy, MaxNumberOfTrainingJobs ({given}) must equal the number of distinct "
            f"combinations of the categorical parameter values ({size}), or be left out.",
        )
    return {**config, "ResourceLimits": {**limits, "MaxNumberOfTrainingJobs": size}}


async def _check_parents(ctx: RequestContext, warm_start: dict[str, Any], definitions: list[dict[str, Any]]) -> None:
    """Warm start parents must exist, have ended, and have tuned the same objective metric."""
    names = [parent["HyperParameterTuningJobName"] for parent in warm_start["ParentHyperParameterTuningJobs"]]
    check_unique("Parent hyperparameter tuning jobs", names)
    objectives = {definition["objective"]["MetricName"] for definition in definitions}
    for name in names:
        parent = await ctx.runtime.tuning.get(KIND, ctx.region, name)
        if parent is None:
            raise AwsError("ValidationException", f"Could not find parent hyperparameter tuning job {name}.")
        if parent.status not in ENDED:
            raise AwsError(
                "ValidationException",
                f"Parent hyperparameter tuning job {name} is in status {parent.status}: warm start parents must "
                f"be in a terminal state ({', '.join(ENDED)}).",
            )
        if {definition["objective"]["MetricName"] for definition in parent.details["definitions"]} != objectives:
            raise AwsError(
                "ValidationException",
                f"The objective metric must be the same as the objective metric of parent hyperparameter tuning "
                f"job {name}.",
            )


def _counters(job: TuningJob) -> dict[str, dict[str, int]]:
    """TrainingJobStatusCounters and ObjectiveStatusCounters of the job's trials."""
    trials = job.details.get("trials", {}).values()
    statuses = Counter(
        {"InProgress": "InProgress", "Stopping": "InProgress", "Completed": "Completed", "Stopped": "Stopped"}.get(
            trial["status"], "RetryableError" if trial.get("retryable") else "NonRetryableError"
        )
        for trial in trials
    )
    objectives = Counter(trial["objective_status"] for trial in trials)
    return {
        "TrainingJobStatusCounters": {
            status: statuses[status] for status in ("Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped")
        },
        "ObjectiveStatusCounters": {status: objectives[status] for status in ("Succeeded", "Pending", "Failed")},
    }


def _best(job: TuningJob, name: str | None) -> dict[str, Any] | None:
    """The summary of the trial ``name``: one of the job's own, or ``<parent job>/<trial>``, a
    warm start parent's (as the tuner names them)."""
    if name is None:
        return None
    if name in job.details["trials"]:
        return _summary(job, name, job.details["trials"][name])
    parent, _, trial_name = name.partition("/")
    for trial in job.details.get("parents") or []:
        if trial["tuning_job"] == parent and trial["name"] == trial_name:
            return _summary(job, trial_name, trial, parent)
    return None


def _summary(job: TuningJob, name: str, trial: dict[str, Any], parent: str | None = None) -> dict[str, Any]:
    """HyperParameterTrainingJobSummary of a trial (of ``parent``, a warm start parent, if given)."""
    definitions = job.details["definitions"]
    # A parent's trial is judged by this job's objective: warm start requires the same metric.
    definition = definitions[0] if parent else definitions[trial["definition"]]
    objective = definition["objective"]
    return drop_none(
        {
            "TrainingJobDefinitionName": None if parent else definition["name"] or None,
            "TrainingJobName": name,
            "TrainingJobArn": trial["arn"],
            "TuningJobName": parent or job.name,
            "CreationTime": to_datetime(trial["created_ms"]),
            "TrainingStartTime": optional_time(trial, "start_ms"),
            "TrainingEndTime": optional_time(trial, "end_ms"),
            "TrainingJobStatus": trial["status"],
            "TunedHyperParameters": trial["tuned"],
            "FailureReason": trial.get("failure_reason") or None,
            "FinalHyperParameterTuningJobObjectiveMetric": None
            if trial.get("objective") is None
            else {**objective, "Value": trial["objective"]},
            "ObjectiveStatus": trial["objective_status"],
        }
    )
