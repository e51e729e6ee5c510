"""What every built-in algorithm shares: image selection, metric definitions, channel and
content-type checks, and the ``shipyard algorithms`` command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from botocore.exceptions import ClientError

from shipyard.algorithms import catalog
from shipyard.testing.algorithms import (
    IMAGES,
    ChannelData,
    assert_client_error,
    csv_bytes,
    final_metrics,
    train_builtin,
)
from shipyard.testing.jobs import training_request
from shipyard.testing.server import RunningServer

BLOBS = np.random.default_rng(7).normal(size=(60, 2)).astype(np.float32) + np.repeat([[0, 0], [6, 6], [0, 6]], 20, axis=0)
KMEANS = {"k": 3, "feature_dim": 2}


def test_builtin_job_reports_the_algorithms_metric_definitions(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str) -> None:
    channels = {"train": ChannelData({"blobs.csv": csv_bytes(BLOBS)}, "text/csv"), "test": ChannelData({"blobs.csv": csv_bytes(BLOBS)}, "text/csv")}
    job = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "kmeans", KMEANS, channels)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    definitions = job["AlgorithmSpecification"]["MetricDefinitions"]
    assert definitions == catalog.find("kmeans").metric_definitions()
    assert final_metrics(job)["test:msd"] > 0


def test_user_metric_definitions_are_kept_beside_the_algorithms(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str) -> None:
    mine = {"Name": "hyperparameters", "Regex": r"hyperparameters: (\S+)"}
    sagemaker = sqlite_server.client("sagemaker")
    request = training_request("kmeans-own-metrics", algorithm_role, f"s3://{algorithm_bucket}/out", image=IMAGES["kmeans"], hyperparameters={"k": "2", "feature_dim": "2"})
    request["AlgorithmSpecification"]["MetricDefinitions"] = [mine]
    sagemaker.create_training_job(**request)
    names = [item["Name"] for item in sagemaker.describe_training_job(TrainingJobName="kmeans-own-metrics")["AlgorithmSpecification"]["MetricDefinitions"]]
    assert names[0] == "hyperparameters"
    assert "test:msd" in names


@pytest.mark.parametrize("repository", ["blazingtext", "seq2seq"])
def test_algorithms_shipyard_does_not_run_are_refused_at_create(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, repository: str) -> None:
    image = f"811284229777.dkr.ecr.us-east-1.amazonaws.com/{repository}:1"
    with pytest.raises(ClientError) as raised:
        sqlite_server.client("sagemaker").create_training_job(**training_request(f"no-{repository}", algorithm_role, f"s3://{algorithm_bucket}/out", image=image))
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert f"{repository} is not available" in raised.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("channels", "hyperparameters", "reason"),
    [
        ({}, KMEANS, "ClientError: K-Means needs the channel(s): train"),
        ({"train": ChannelData({"a.csv": csv_bytes(BLOBS)}, "text/csv"), "extra": ChannelData({"a.csv": b"1,2\n"}, "text/csv")}, KMEANS, "has no channel 'extra'"),
        ({"train": ChannelData({"a.csv": csv_bytes(BLOBS)}, "application/parquet")}, KMEANS, "Content type 'application/parquet' of the train channel is not supported"),
        ({"train": ChannelData({"a.csv": csv_bytes(BLOBS)}, "text/csv")}, {"feature_dim": 2}, "Missing required hyperparameter(s) for K-Means: k"),
        ({"train": ChannelData({"a.csv": csv_bytes(BLOBS)}, "text/csv")}, {**KMEANS, "k": "three"}, "Invalid value 'three' for hyperparameter k"),
        ({"train": ChannelData({"a.csv": csv_bytes(BLOBS)}, "text/csv")}, {**KMEANS, "colour": "red"}, "Unknown hyperparameter(s) for K-Means: colour"),
        ({"train": ChannelData({"a.csv": b"1,2\n3,x\n"}, "text/csv")}, KMEANS, "non-numeric value 'x' at line 2, column 2"),
    ],
)
def test_bad_jobs_fail_with_a_client_error(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, channels, hyperparameters, reason: str) -> None:
    job = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "kmeans", hyperparameters, channels)
    assert_client_error(job, re.escape(reason))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    wide = {**os.environ, "COLUMNS": "250"}  # rich's tables would shorten names to fit 80 columns
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "algorithms", *args], capture_output=True, text=True, timeout=60, check=False, env=wide
    )


def test_cli_lists_every_algorithm() -> None:
    listed = _cli()
    assert listed.returncode == 0, listed.stderr
    for algorithm in catalog.algorithms():
        assert algorithm.name in listed.stdout
    declared = json.loads(_cli("--json").stdout)
    assert [item["name"] for item in declared] == [algorithm.name for algorithm in catalog.algorithms()]
    kmeans = json.loads(_cli("sagemaker-xgboost", "--json").stdout)[0]
    assert kmeans["name"] == "xgboost"
    assert any(item["name"] == "num_round" and item["required"] for item in kmeans["hyperparameters"])


def test_cli_shows_one_algorithm_and_refuses_unknown_names() -> None:
    shown = _cli("kmeans")
    assert shown.returncode == 0
    assert "feature_dim" in shown.stdout and "test:msd" in shown.stdout
    unknown = _cli("blazingtext")
    assert unknown.returncode == 1
    assert "No built-in algorithm 'blazingtext'" in unknown.stderr
