"""The tuning API through boto3: CreateHyperParameterTuningJob's validation with AWS's error
codes, Describe's echo, ListHyperParameterTuningJobs, ListTrainingJobsForHyperParameterTuningJob
and StopHyperParameterTuningJob. Strategies end to end are in test_tuning_jobs.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.identities import create_role, unique_name
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.tuning import (
    script_definition,
    trials,
    tuning_config,
    wait_for_tuning,
)

#: The loss is smallest at rate = 0.3; logged once. (The toolkit passes one-letter
#: hyperparameters as ``-x``, so the name is longer.)
SCRIPT = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--rate", type=float, default=0.0)
args, _ = parser.parse_known_args()
print(f"loss={(args.rate - 0.3) ** 2:.6f}", flush=True)
"""
LOSS = r"loss=([0-9.eE+-]+)"
RANGES = {"ContinuousParameterRanges": [{"Name": "rate", "MinValue": "0", "MaxValue": "1"}]}
CATEGORICAL = {"CategoricalParameterRanges": [{"Name": "rate", "Values": ["0.1", "0.3", "0.5"]}]}
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


@pytest.fixture(scope="module")
def sagemaker(sqlite_server: RunningServer):
    return sqlite_server.client("sagemaker")


@pytest.fixture(scope="module")
def definition(sqlite_server: RunningServer) -> dict[str, Any]:
    """A script-mode training job definition whose metric ``loss`` depends on ``rate``."""
    bucket = unique_name("tuning-api")
    sqlite_server.client("s3").create_bucket(Bucket=bucket)
    role = sagemaker_role(sqlite_server)
    return script_definition(sqlite_server, bucket, role, "api", SCRIPT, "loss", LOSS)


@pytest.fixture(scope="module")
def finished(sagemaker, definition) -> tuple[str, dict[str, Any]]:
    """A Random tuning job of 3 trials that ran to its end: its name and last description."""
    name = unique_name("done")
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=tuning_config("Random", RANGES, "loss", jobs=3, parallel=3, RandomSeed=7),
        TrainingJobDefinition=definition,
    )
    return name, wait_for_tuning(sagemaker, name)


def _request(definition: dict[str, Any], **config: Any) -> dict[str, Any]:
    """CreateHyperParameterTuningJob's parameters: a Random job over ``RANGES`` (``config``
    members override), with a fresh name."""
    return {
        "HyperParameterTuningJobName": unique_name("tune"),
        "HyperParameterTuningJobConfig": {**tuning_config("Random", RANGES, "loss", jobs=2, parallel=1), **config},
        "TrainingJobDefinition": copy.deepcopy(definition),
    }


def _refused(sagemaker, request: dict[str, Any]) -> tuple[str, str]:
    """The error code and message of a CreateHyperParameterTuningJob that must fail."""
    with pytest.raises(ClientError) as raised:
        sagemaker.create_hyper_parameter_tuning_job(**request)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def _create_and_stop(sagemaker, request: dict[str, Any]) -> str:
    """Create the tuning job and stop it at once (no trial needs to run); its name."""
    sagemaker.create_hyper_parameter_tuning_job(**request)
    name = request["HyperParameterTuningJobName"]
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    return name


# --- CreateHyperParameterTuningJob's validation ------------------------------------------------


def test_a_name_longer_than_32_characters_is_refused(sagemaker, definition):
    request = _request(definition)
    request["HyperParameterTuningJobName"] = "t" * 33
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException"
    assert "hyperParameterTuningJobName" in message and "32" in message


def test_definition_and_definitions_are_exclusive(sagemaker, definition):
    both = _request(definition)
    both["TrainingJobDefinitions"] = [{**copy.deepcopy(definition), "DefinitionName": "one"}]
    assert _refused(sagemaker, both)[0] == "ValidationException"
    neither = _request(definition)
    del neither["TrainingJobDefinition"]
    code, message = _refused(sagemaker, neither)
    assert code == "ValidationException" and "TrainingJobDefinition" in message


def test_several_definitions_need_unique_names(sagemaker, definition):
    request = _request(definition)
    del request["TrainingJobDefinition"]
    request["TrainingJobDefinitions"] = [copy.deepcopy(definition), copy.deepcopy(definition)]
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "DefinitionName" in message
    request["TrainingJobDefinitions"] = [{**copy.deepcopy(definition), "DefinitionName": "same"}] * 2
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "same" in message


def test_an_objective_is_required(sagemaker, definition):
    request = _request(definition)
    del request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "HyperParameterTuningJobObjective" in message


def test_the_objective_metric_must_be_a_metric_definition(sagemaker, definition):
    request = _request(definition)
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = "accuracy"
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "'accuracy'" in message and "loss" in message


def test_a_builtin_algorithms_metrics_are_objectives(sagemaker, definition):
    xgboost = copy.deepcopy(definition)
    xgboost["AlgorithmSpecification"] = {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"}
    xgboost["StaticHyperParameters"] = {"num_round": "5"}
    ranges = {"IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "4"}]}
    request = _request(xgboost, HyperParameterTuningJobObjective={"Type": "Maximize", "MetricName": "validation:nope"})
    request["HyperParameterTuningJobConfig"]["ParameterRanges"] = ranges
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "validation:auc" in message
    request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]["MetricName"] = "validation:auc"
    name = _create_and_stop(sagemaker, request)
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["TrainingJobDefinition"]["AlgorithmSpecification"]["TrainingImage"] == XGBOOST_IMAGE


def test_a_definitions_own_objective_and_ranges_win(sagemaker, definition):
    request = _request(definition)
    del request["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    del request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    request["TrainingJobDefinition"]["TuningObjective"] = {"Type": "Minimize", "MetricName": "loss"}
    request["TrainingJobDefinition"]["HyperParameterRanges"] = CATEGORICAL
    name = _create_and_stop(sagemaker, request)
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["TrainingJobDefinition"]["TuningObjective"] == {"Type": "Minimize", "MetricName": "loss"}
    assert described["TrainingJobDefinition"]["HyperParameterRanges"] == CATEGORICAL


def test_a_static_hyperparameter_cannot_be_tuned(sagemaker, definition):
    request = _request(definition)
    request["TrainingJobDefinition"]["StaticHyperParameters"]["rate"] = "0.5"
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "rate" in message and "static" in message


def test_ranges_are_validated(sagemaker, definition):
    ranges = {"ContinuousParameterRanges": [{"Name": "rate", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]}
    assert _refused(sagemaker, _request(definition, ParameterRanges=ranges))[0] == "ValidationException"
    reversed_bounds = {"ContinuousParameterRanges": [{"Name": "rate", "MinValue": "2", "MaxValue": "1"}]}
    assert _refused(sagemaker, _request(definition, ParameterRanges=reversed_bounds))[0] == "ValidationException"


def test_grid_search_takes_only_categorical_ranges(sagemaker, definition):
    code, message = _refused(sagemaker, _request(definition, Strategy="Grid"))
    assert code == "ValidationException" and "categorical" in message


def test_grid_search_counts_its_training_jobs(sagemaker, definition):
    request = _request(definition, Strategy="Grid", ParameterRanges=CATEGORICAL)
    code, message = _refused(sagemaker, request)  # MaxNumberOfTrainingJobs 2, but 3 combinations
    assert code == "ValidationException" and "MaxNumberOfTrainingJobs" in message and "3" in message
    del request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
    name = _create_and_stop(sagemaker, request)
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] == 3


def test_random_and_bayesian_need_a_maximum_number_of_training_jobs(sagemaker, definition):
    for strategy in ("Random", "Bayesian"):
        request = _request(definition, Strategy=strategy)
        del request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"]
        code, message = _refused(sagemaker, request)
        assert code == "ValidationException" and "MaxNumberOfTrainingJobs" in message


def test_hyperband_rules(sagemaker, definition):
    hyperband = {"HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 9}}
    code, message = _refused(
        sagemaker, _request(definition, Strategy="Hyperband", StrategyConfig=hyperband, TrainingJobEarlyStoppingType="Auto")
    )
    assert code == "ValidationException" and "Hyperband" in message
    backwards = {"HyperbandStrategyConfig": {"MinResource": 10, "MaxResource": 9}}
    code, message = _refused(sagemaker, _request(definition, Strategy="Hyperband", StrategyConfig=backwards))
    assert code == "ValidationException" and "MinResource" in message
    code, message = _refused(sagemaker, _request(definition, StrategyConfig=hyperband))
    assert code == "ValidationException" and "StrategyConfig" in message


def test_the_role_must_be_assumable(sagemaker, sqlite_server, definition):
    request = _request(definition)
    account = sqlite_server.client("sts").get_caller_identity()["Account"]
    request["TrainingJobDefinition"]["RoleArn"] = create_role(sqlite_server, trusted=account)
    code, message = _refused(sagemaker, request)
    assert code == "ValidationException" and "Could not assume role" in message


def test_a_taken_name_is_resource_in_use(sagemaker, definition):
    request = _request(definition)
    _create_and_stop(sagemaker, request)
    code, message = _refused(sagemaker, request)
    assert code == "ResourceInUse" and "already exists" in message


def test_warm_start_parents_must_exist_and_have_ended(sagemaker, definition, finished):
    missing = _request(definition)
    missing["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": unique_name("nobody")}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    code, message = _refused(sagemaker, missing)
    assert code == "ValidationException" and "Could not find" in message
    running = _request(definition, ResourceLimits={"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1})
    sagemaker.create_hyper_parameter_tuning_job(**running)
    busy = _request(definition)
    busy["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": running["HyperParameterTuningJobName"]}],
        "WarmStartType": "TransferLearning",
    }
    code, message = _refused(sagemaker, busy)
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=running["HyperParameterTuningJobName"])
    assert code == "ValidationException" and "InProgress" in message
    too_many = _request(definition)
    too_many["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": finished[0]}] * 6,
        "WarmStartType": "TransferLearning",
    }
    assert _refused(sagemaker, too_many)[0] == "ValidationException"


def test_a_warm_start_from_an_ended_parent_is_accepted(sagemaker, definition, finished):
    request = _request(definition)
    request["WarmStartConfig"] = {
        "ParentHyperParameterTuningJobs": [{"HyperParameterTuningJobName": finished[0]}],
        "WarmStartType": "IdenticalDataAndAlgorithm",
    }
    name = _create_and_stop(sagemaker, request)
    described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["WarmStartConfig"] == request["WarmStartConfig"]


# --- Describe, List, Stop ---------------------------------------------------------------------


def test_describe_echoes_the_request_of_a_fresh_job(sagemaker, definition):
    request = _request(definition, RandomSeed=3, TuningJobCompletionCriteria={"TargetObjectiveMetricValue": 0.01})
    request["Tags"] = [{"Key": "team", "Value": "tuning"}]
    arn = sagemaker.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"]
    name = request["HyperParameterTuningJobName"]
    try:
        described = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    finally:
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert arn == described["HyperParameterTuningJobArn"]
    assert arn.endswith(f":hyper-parameter-tuning-job/{name.lower()}") and arn.startswith("arn:aws:sagemaker:")
    assert described["HyperParameterTuningJobName"] == name
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    assert described["HyperParameterTuningJobConfig"] == {
        "TrainingJobEarlyStoppingType": "Off",
        **request["HyperParameterTuningJobConfig"],
    }
    assert described["TrainingJobDefinition"] == request["TrainingJobDefinition"]
    assert set(described["TrainingJobStatusCounters"]) == {"Completed", "InProgress", "RetryableError", "NonRetryableError", "Stopped"}
    assert set(described["ObjectiveStatusCounters"]) == {"Succeeded", "Pending", "Failed"}
    assert "BestTrainingJob" not in described and "HyperParameterTuningEndTime" not in described
    assert described["ConsumedResources"]["RuntimeInSeconds"] >= 0
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "tuning"}]


def test_describe_of_a_finished_job_counts_its_trials_and_names_the_best(sagemaker, finished):
    name, described = finished
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"] == {
        "Completed": 3,
        "InProgress": 0,
        "RetryableError": 0,
        "NonRetryableError": 0,
        "Stopped": 0,
    }
    assert described["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    assert described["HyperParameterTuningEndTime"] >= described["CreationTime"]
    listed = trials(sagemaker, name)
    best = min(listed, key=lambda trial: trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
    summary = described["BestTrainingJob"]
    assert summary["TrainingJobName"] == best["TrainingJobName"]
    assert summary["TuningJobName"] == name
    assert summary["ObjectiveStatus"] == "Succeeded"
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["MetricName"] == "loss"
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["Type"] == "Minimize"
    rate = float(summary["TunedHyperParameters"]["rate"])
    assert summary["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == pytest.approx((rate - 0.3) ** 2, abs=1e-5)
    training = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
    assert training["TuningJobArn"] == described["HyperParameterTuningJobArn"]


def test_training_jobs_of_a_tuning_job_sort_and_page(sagemaker, finished):
    name, _ = finished
    listed = trials(sagemaker, name)
    assert sorted(trial["TrainingJobName"] for trial in listed) == [trial["TrainingJobName"] for trial in listed]
    assert all(trial["TrainingJobName"].startswith(f"{name}-") and trial["TuningJobName"] == name for trial in listed)
    values = [
        trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for trial in sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
        )["TrainingJobSummaries"]
    ]
    assert values == sorted(values, reverse=True) and len(values) == 3
    first = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, MaxResults=2)
    assert len(first["TrainingJobSummaries"]) == 2
    rest = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=2, NextToken=first["NextToken"]
    )
    assert [trial["TrainingJobName"] for trial in first["TrainingJobSummaries"] + rest["TrainingJobSummaries"]] == [
        trial["TrainingJobName"] for trial in listed
    ]
    assert "NextToken" not in rest
    stopped = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, StatusEquals="Stopped")
    assert stopped["TrainingJobSummaries"] == []
    with pytest.raises(ClientError) as raised:
        sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name, NextToken="bogus")
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_trials_are_listed_as_training_jobs(sagemaker, finished):
    name, _ = finished
    listed = sagemaker.list_training_jobs(NameContains=name)["TrainingJobSummaries"]
    assert sorted(job["TrainingJobName"] for job in listed) == sorted(trial["TrainingJobName"] for trial in trials(sagemaker, name))


def test_list_tuning_jobs_filters_sorts_and_pages(sagemaker, definition):
    prefix = unique_name("listed")
    names = [f"{prefix}-{index}" for index in range(3)]
    for name in names:
        request = _request(definition)
        request["HyperParameterTuningJobName"] = name
        _create_and_stop(sagemaker, request)
    first = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=2)
    rest = sagemaker.list_hyper_parameter_tuning_jobs(
        NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"]
    )
    summaries = first["HyperParameterTuningJobSummaries"] + rest["HyperParameterTuningJobSummaries"]
    assert [summary["HyperParameterTuningJobName"] for summary in summaries] == names
    assert "NextToken" not in rest
    summary = summaries[0]
    assert summary["Strategy"] == "Random"
    assert summary["ResourceLimits"] == {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1}
    assert summary["HyperParameterTuningJobStatus"] in ("Stopping", "Stopped")
    assert set(summary["TrainingJobStatusCounters"]) >= {"Completed", "InProgress", "Stopped"}
    newest = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=prefix)["HyperParameterTuningJobSummaries"]
    assert [summary["HyperParameterTuningJobName"] for summary in newest] == names[::-1]
    in_progress = sagemaker.list_hyper_parameter_tuning_jobs(NameContains=prefix, StatusEquals="InProgress")
    assert in_progress["HyperParameterTuningJobSummaries"] == []
    with pytest.raises(ClientError) as raised:
        sagemaker.list_hyper_parameter_tuning_jobs(NameContains=prefix, SortBy="Status", NextToken=first["NextToken"])
    assert raised.value.response["Error"]["Code"] == "ValidationException"


def test_stop_ends_a_fresh_job_stopped_and_only_once(sagemaker, definition):
    name = _create_and_stop(sagemaker, _request(definition))
    status = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)["HyperParameterTuningJobStatus"]
    assert status in ("Stopping", "Stopped")
    with pytest.raises(ClientError) as raised:
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    described = wait_for_tuning(sagemaker, name, timeout=60)
    assert described["HyperParameterTuningJobStatus"] == "Stopped"
    assert "HyperParameterTuningEndTime" in described


@pytest.mark.parametrize(
    "call",
    [
        "describe_hyper_parameter_tuning_job",
        "stop_hyper_parameter_tuning_job",
        "list_training_jobs_for_hyper_parameter_tuning_job",
    ],
)
def test_a_missing_tuning_job_is_resource_not_found(sagemaker, call):
    name = unique_name("missing")
    with pytest.raises(ClientError) as raised:
        getattr(sagemaker, call)(HyperParameterTuningJobName=name)
    error = raised.value.response["Error"]
    assert error["Code"] == "ResourceNotFound"
    assert error["Message"] == f"Amazon SageMaker can't find a tuning job called {name}. Type another name."
