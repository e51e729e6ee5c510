"""Build and follow hyperparameter tuning jobs on a running server, for tests, benches and examples."""

from __future__ import annotations

import time
from typing import Any

from shipyard.testing.jobs import (
    script_hyperparameters,
    training_request,
    upload_sourcedir,
)
from shipyard.testing.server import RunningServer

_ENDED = {"Completed", "Failed", "Stopped"}


def script_definition(
    server: RunningServer, bucket: str, role: str, prefix: str, script: str, metric: str, regex: str, **extra: Any
) -> dict[str, Any]:
    """A ``TrainingJobDefinition`` running ``script`` in script mode, whose metric ``metric``
    is read with ``regex``."""
    source = upload_sourcedir(server, bucket, prefix, {"train.py": script})
    request = training_request("unused", role, f"s3://{bucket}/{prefix}/output", hyperparameters={}, **extra)
    request.pop("TrainingJobName")
    request["StaticHyperParameters"] = script_hyperparameters("train.py", source)
    request.pop("HyperParameters")
    request["AlgorithmSpecification"]["MetricDefinitions"] = [{"Name": metric, "Regex": regex}]
    return request


def tuning_config(
    strategy: str, ranges: dict[str, Any], metric: str, *, minimize: bool = True, jobs: int = 4, parallel: int = 2, **extra: Any
) -> dict[str, Any]:
    """A ``HyperParameterTuningJobConfig``."""
    return {
        "Strategy": strategy,
        "HyperParameterTuningJobObjective": {"Type": "Minimize" if minimize else "Maximize", "MetricName": metric},
        "ResourceLimits": {"MaxNumberOfTrainingJobs": jobs, "MaxParallelTrainingJobs": parallel},
        "ParameterRanges": ranges,
        **extra,
    }


def wait_for_tuning(sagemaker: Any, name: str, *, timeout: float = 180) -> dict[str, Any]:
    """Poll DescribeHyperParameterTuningJob until the tuning job ends; its last description."""
    deadline = time.monotonic() + timeout
    while True:
        found = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if found["HyperParameterTuningJobStatus"] in _ENDED:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"tuning job {name} still {found['HyperParameterTuningJobStatus']} after {timeout} s")
        time.sleep(0.2)


def trials(sagemaker: Any, name: str) -> list[dict[str, Any]]:
    """Every trial of tuning job ``name`` (ListTrainingJobsForHyperParameterTuningJob, all pages)."""
    pages = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name
    )
    return [summary for page in pages for summary in page["TrainingJobSummaries"]]
