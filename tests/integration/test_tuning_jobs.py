"""Tuning jobs end to end through boto3: every strategy on a script-mode job and on built-in
XGBoost, counters and the best trial, early stopping, warm start, stop, and a server restart."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard.testing import RunningServer, start_server
from shipyard.testing.algorithms import IMAGES, csv_bytes
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.tuning import (
    script_definition,
    trials,
    tuning_config,
    wait_for_tuning,
)

#: A known optimum: offset = 3, count = 2, choice = "b". Logs the loss once per step.
#: (One-letter names would reach the script as ``-x``, as SageMaker's toolkit passes them.)
SCRIPT = """
import argparse, time
parser = argparse.ArgumentParser()
parser.add_argument("--offset", type=float, default=0.0)
parser.add_argument("--count", type=int, default=1)
parser.add_argument("--choice", default="a")
parser.add_argument("--steps", type=int, default=1)
parser.add_argument("--pause", type=float, default=0.0)
args, _ = parser.parse_known_args()
for step in range(1, args.steps + 1):
    loss = (args.offset - 3) ** 2 + (args.count - 2) ** 2 + (0.0 if args.choice == "b" else 1.0) + 1.0 / step
    print(f"step={step} loss={loss}", flush=True)
    time.sleep(args.pause)
"""
LOSS = r"loss=([0-9.eE+-]+)"

SCRIPT_RANGES = {
    "ContinuousParameterRanges": [{"Name": "offset", "MinValue": "0", "MaxValue": "10"}],
    "IntegerParameterRanges": [{"Name": "count", "MinValue": "1", "MaxValue": "4"}],
    "CategoricalParameterRanges": [{"Name": "choice", "Values": ["a", "b"]}],
}
GRID_RANGES = {"CategoricalParameterRanges": [{"Name": "offset", "Values": ["3", "5"]}, {"Name": "choice", "Values": ["a", "b"]}]}
XGBOOST_RANGES = {
    "ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.05", "MaxValue": "0.5", "ScalingType": "Logarithmic"}],
    "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "5"}],
}
XGBOOST_GRID = {"CategoricalParameterRanges": [{"Name": "max_depth", "Values": ["2", "4"]}, {"Name": "eta", "Values": ["0.3"]}]}


@pytest.fixture(scope="module")
def tuning(sqlite_server: RunningServer) -> dict[str, Any]:
    """A bucket, a role, a script-mode definition and a built-in XGBoost definition."""
    bucket = unique_name("tuning")
    s3 = sqlite_server.client("s3")
    s3.create_bucket(Bucket=bucket)
    role = sagemaker_role(sqlite_server)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(300, 4))
    labels = features[:, 0] * 2 + np.sin(features[:, 1]) + rng.normal(scale=0.1, size=300)
    s3.put_object(Bucket=bucket, Key="train/train.csv", Body=csv_bytes(features[:200], labels[:200]))
    s3.put_object(Bucket=bucket, Key="validation/validation.csv", Body=csv_bytes(features[200:], labels[200:]))
    xgboost = {
        "AlgorithmSpecification": {"TrainingImage": IMAGES["xgboost"], "TrainingInputMode": "File"},
        "RoleArn": role,
        "StaticHyperParameters": {"num_round": "9", "objective": "reg:squarederror"},
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{bucket}/{channel}"}},
            }
            for channel in ("train", "validation")
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/xgboost"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    script = script_definition(sqlite_server, bucket, role, "script", SCRIPT, "loss", LOSS)
    return {"bucket": bucket, "role": role, "script": script, "xgboost": xgboost}


def _create(server: RunningServer, definition: dict[str, Any], config: dict[str, Any], **extra: Any) -> str:
    name = unique_name("tune")[:32]
    server.client("sagemaker").create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, HyperParameterTuningJobConfig=config, TrainingJobDefinition=definition, **extra
    )
    return name


def _with_static(definition: dict[str, Any], **values: str) -> dict[str, Any]:
    return {**definition, "StaticHyperParameters": {**definition["StaticHyperParameters"], **values}}


@pytest.mark.parametrize("strategy", ["Random", "Bayesian", "Grid", "Hyperband"])
@pytest.mark.parametrize("kind", ["script", "xgboost"])
def test_each_strategy_finds_and_names_the_best_trial(
    sqlite_server: RunningServer, tuning: dict[str, Any], strategy: str, kind: str
) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    script = kind == "script"
    metric = "loss" if script else "validation:rmse"
    ranges = (GRID_RANGES if script else XGBOOST_GRID) if strategy == "Grid" else (SCRIPT_RANGES if script else XGBOOST_RANGES)
    definition = tuning[kind]
    extra: dict[str, Any] = {"RandomSeed": 7}
    if strategy == "Hyperband":
        extra["StrategyConfig"] = {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}
        if script:
            definition = _with_static(definition, steps="9")
    count = 4 if script else 2  # built-in trials take seconds each: two make the point
    config = tuning_config(strategy, ranges, metric, jobs=count, parallel=2, **extra)
    name = _create(sqlite_server, definition, config)
    described = wait_for_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed", described.get("FailureReason")
    found = trials(sagemaker, name)
    assert len(found) == count
    assert all(re.fullmatch(rf"{name}-\d{{3}}-[0-9a-f]{{8}}", trial["TrainingJobName"]) for trial in found)
    counters = described["TrainingJobStatusCounters"]
    assert counters["Completed"] + counters["Stopped"] == count and counters["NonRetryableError"] == 0
    assert described["ObjectiveStatusCounters"]["Succeeded"] == count
    values = {trial["TrainingJobName"]: trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for trial in found}
    best = described["BestTrainingJob"]
    assert best["TrainingJobName"] == min(values, key=values.get)
    objective = best["FinalHyperParameterTuningJobObjectiveMetric"]
    assert (objective["MetricName"], objective["Type"]) == (metric, "Minimize")
    assert objective["Value"] == pytest.approx(min(values.values()))
    if strategy == "Grid":
        combinations = {tuple(sorted(trial["TunedHyperParameters"].items())) for trial in found}
        assert len(combinations) == count
    job = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert job["TuningJobArn"] == described["HyperParameterTuningJobArn"]
    assert job["HyperParameters"]["_tuning_objective_metric"] == metric
    for key, value in best["TunedHyperParameters"].items():
        assert job["HyperParameters"][key] == value


def test_early_stopping_stops_a_hopeless_trial(sqlite_server: RunningServer, tuning: dict[str, Any]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    ranges = {"CategoricalParameterRanges": [{"Name": "offset", "Values": ["3", "3.2", "2.8", "2.9", "40"]}]}
    definition = _with_static(tuning["script"], steps="6", pause="0.3", choice="b", count="2")
    config = tuning_config("Grid", ranges, "loss", jobs=5, parallel=1, TrainingJobEarlyStoppingType="Auto")
    config["ResourceLimits"].pop("MaxNumberOfTrainingJobs")
    name = _create(sqlite_server, definition, config)
    described = wait_for_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    statuses = {trial["TunedHyperParameters"]["offset"]: trial["TrainingJobStatus"] for trial in trials(sagemaker, name)}
    assert statuses["40"] == "Stopped"
    assert statuses["3"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Stopped"] >= 1
    assert described["BestTrainingJob"]["TunedHyperParameters"]["offset"] == "3"


def test_warm_start_reuses_the_parents_results(sqlite_server: RunningServer, tuning: dict[str, Any]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    definition = _with_static(tuning["script"], count="2")
    narrow = {"ContinuousParameterRanges": [{"Name": "offset", "MinValue": "2.5", "MaxValue": "3.5"}], "CategoricalParameterRanges": [{"Name": "choice", "Values": ["b"]}]}
    parent = _create(sqlite_server, definition, tuning_config("Random", narrow, "loss", jobs=3, parallel=3, RandomSeed=1))
    parent_best = wait_for_tuning(sagemaker, parent)["BestTrainingJob"]
    wide = {"ContinuousParameterRanges": [{"Name": "offset", "MinValue": "5", "MaxValue": "10"}], "CategoricalParameterRanges": [{"Name": "choice", "Values": ["b"]}]}
    warm = {"ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": parent}], "WarmStartType": "IdenticalDataAndAlgorithm"}
    child = _create(sqlite_server, definition, tuning_config("Bayesian", wide, "loss", jobs=2, parallel=2), WarmStartConfig=warm)
    described = wait_for_tuning(sagemaker, child)
    assert described["WarmStartConfig"]["ParentHyperParameterTuningJobs"] == [{"HyperParameterTuningJobName": parent}]
    own_best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    overall = described["OverallBestTrainingJob"]
    # The parents searched near the optimum, the child far from it: the overall best is the parent's.
    assert overall["TrainingJobName"] == parent_best["TrainingJobName"]
    assert overall["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] < own_best


def test_stop_ends_the_running_trials(sqlite_server: RunningServer, tuning: dict[str, Any]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    definition = _with_static(tuning["script"], steps="100", pause="0.2")
    name = _create(sqlite_server, definition, tuning_config("Random", SCRIPT_RANGES, "loss", jobs=6, parallel=2))
    deadline = time.monotonic() + 30
    while len(trials(sagemaker, name)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    described = wait_for_tuning(sagemaker, name, timeout=90)
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    found = trials(sagemaker, name)
    assert len(found) == 2
    assert {trial["TrainingJobStatus"] for trial in found} == {"Stopped"}
    assert described["TrainingJobStatusCounters"]["Stopped"] == 2
    assert "HyperParameterTuningEndTime" in described


def test_a_tuning_job_goes_on_after_a_server_restart(tmp_path: Path) -> None:
    with start_server(tmp_path) as server:
        bucket = unique_name("restart")
        server.client("s3").create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        definition = script_definition(server, bucket, role, "script", SCRIPT, "loss", LOSS)
        definition = _with_static(definition, steps="3", pause="0.3")
        sagemaker = server.client("sagemaker")
        name = _create(server, definition, tuning_config("Random", SCRIPT_RANGES, "loss", jobs=4, parallel=1))
        deadline = time.monotonic() + 30
        while not trials(sagemaker, name) and time.monotonic() < deadline:
            time.sleep(0.1)
        server.restart(kill=True)
        described = wait_for_tuning(server.client("sagemaker"), name)
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        found = trials(server.client("sagemaker"), name)
        assert len(found) == 4
        assert len({trial["TrainingJobName"] for trial in found}) == 4
        assert described["TrainingJobStatusCounters"]["Completed"] == 4, (described["TrainingJobStatusCounters"], [(t["TrainingJobStatus"], t.get("FailureReason")) for t in found])


FAILING = """
import argparse, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--reason", default="ValueError")
args, _ = parser.parse_known_args()
with open(os.path.join(os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output"), "failure"), "w") as handle:
    handle.write(f"{args.reason}: the trial broke")
sys.exit(1)
"""


@pytest.mark.parametrize(
    ("reason", "retried"), [("InternalServerError", True), ("AlgorithmError", False)], ids=["retryable", "not-retryable"]
)
def test_failed_trials_are_counted_and_retried_once_when_retryable(
    sqlite_server: RunningServer, tuning: dict[str, Any], reason: str, retried: bool
) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    definition = script_definition(sqlite_server, tuning["bucket"], tuning["role"], f"failing-{reason}", FAILING, "loss", LOSS)
    ranges = {"CategoricalParameterRanges": [{"Name": "reason", "Values": [reason]}]}
    name = _create(sqlite_server, definition, tuning_config("Random", ranges, "loss", jobs=2, parallel=1))
    described = wait_for_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Failed"
    assert described["FailureReason"]
    found = trials(sagemaker, name)
    assert len(found) == 2
    assert all(trial["FailureReason"].startswith(reason) for trial in found)
    counters = described["TrainingJobStatusCounters"]
    if retried:
        assert (counters["RetryableError"], counters["NonRetryableError"]) == (2, 0)
    else:
        assert (counters["RetryableError"], counters["NonRetryableError"]) == (0, 2)
    assert described["ObjectiveStatusCounters"]["Failed"] == 2


def test_hyperband_stops_trials_that_lag_at_a_rung(sqlite_server: RunningServer, tuning: dict[str, Any]) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    definition = _with_static(tuning["script"], steps="9", pause="0.15", choice="b", count="2")
    ranges = {"ContinuousParameterRanges": [{"Name": "offset", "MinValue": "0", "MaxValue": "10"}]}
    config = tuning_config(
        "Hyperband",
        ranges,
        "loss",
        jobs=5,
        parallel=1,
        RandomSeed=11,
        StrategyConfig={"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}},
    )
    name = _create(sqlite_server, definition, config)
    described = wait_for_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    found = trials(sagemaker, name)
    stopped = [trial for trial in found if trial["TrainingJobStatus"] == "Stopped"]
    assert stopped, [(trial["TunedHyperParameters"], trial["TrainingJobStatus"]) for trial in found]
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert all(trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] > best for trial in stopped)
    assert described["TrainingJobStatusCounters"]["Stopped"] == len(stopped)


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        # Every trial reaches the target: the job ends after the first one.
        ({"TargetObjectiveMetricValue": 1000.0}, 1),
        # offset 3 is best; 4, 5 and 6 do not improve on it: three trials without improvement
        # (the least AWS allows) end the job before offset 7 runs.
        ({"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}, 4),
    ],
    ids=["target-reached", "not-improving"],
)
def test_completion_criteria_end_the_job_early(
    sqlite_server: RunningServer, tuning: dict[str, Any], criteria: dict[str, Any], expected: int
) -> None:
    sagemaker = sqlite_server.client("sagemaker")
    definition = _with_static(tuning["script"], choice="b", count="2")
    ranges = {"CategoricalParameterRanges": [{"Name": "offset", "Values": ["3", "4", "5", "6", "7"]}]}
    config = tuning_config("Grid", ranges, "loss", jobs=5, parallel=1, TuningJobCompletionCriteria=criteria)
    name = _create(sqlite_server, definition, config)
    described = wait_for_tuning(sagemaker, name)
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    found = trials(sagemaker, name)
    assert len(found) == expected
    assert described["BestTrainingJob"]["TunedHyperParameters"]["offset"] == "3"
