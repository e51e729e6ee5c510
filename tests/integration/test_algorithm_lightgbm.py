"""LightGBM through CreateTrainingJob: JumpStart's layout, a train channel alone, metrics, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from shipyard.algorithms.lightgbm import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    csv_bytes,
    download_model,
    final_metrics,
    train_builtin,
)


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "lightgbm", {"verbosity": -1, **hyperparameters}, channels)


def test_jumpstart_layout_in_its_training_channel(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(labels))
    fit_rows, held_rows = order[:420], order[420:]
    files = {
        "train/data.csv": csv_bytes(features[fit_rows], labels[fit_rows]),
        "validation/data.csv": csv_bytes(features[held_rows], labels[held_rows]),
        "categorical_index.json": json.dumps({"cat_index_list": []}).encode(),
    }
    description = train(sqlite_server, algorithm_bucket, algorithm_role, {"num_boost_round": 40, "metric": "auc"},
                        training=ChannelData(files, "text/csv"))
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"train:auc", "validation:auc"}
    assert metrics["validation:auc"] > 0.95

    model = download_model(sqlite_server, description, tmp_path / "model")
    assert (model / "model.txt").is_file()
    response, content_type = serve.load(model).invoke(
        csv_bytes(features[held_rows]), "text/csv", "application/json;verbose"
    )
    assert content_type == "application/json"
    answer = json.loads(response)
    assert answer["labels"] == [0, 1]
    assert np.mean(np.array(answer["predicted_label"]) == labels[held_rows]) > 0.9
    assert np.array(answer["probabilities"]).shape == (len(held_rows), 2)


def test_train_channel_regression_holds_out_validation_rows(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_diabetes(return_X_y=True)
    hyperparameters = {"num_boost_round": 50, "learning_rate": 0.05, "num_leaves": 8}
    description = train(sqlite_server, algorithm_bucket, algorithm_role, hyperparameters,
                        train=ChannelData({"data.csv": csv_bytes(features, labels)}, "text/csv"))
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"train:rmse", "validation:rmse"}
    assert metrics["train:rmse"] < metrics["validation:rmse"] < np.std(labels)

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    response, _ = predictor.invoke(csv_bytes(features), "text/csv", "text/csv")
    predictions = np.array(response.decode().splitlines(), dtype=np.float64)
    assert np.sqrt(np.mean((predictions - labels) ** 2)) < 0.9 * np.std(labels)


ROWS = b"0,0.5,2\n1,1.5,1\n0,0.2,3\n1,2.5,1\n0,0.1,2\n1,1.9,3\n"


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        ({}, {"validation": ChannelData({"a.csv": ROWS}, "text/csv")}, "needs the channel.*train"),
        ({}, {"train": ChannelData({"a.csv": b"0,1,2\n1,x,1\n"}, "text/csv")}, "non-numeric value 'x'"),
        ({}, {"train": ChannelData({"a.svm": b"0 0:1\n"}, "text/libsvm")}, "text/libsvm.*not supported"),
        ({"metric": "rmse"}, {"train": ChannelData({"a.csv": ROWS}, "text/csv")}, "Metric rmse does not apply to binary"),
        (
            {},
            {"train": ChannelData({"a.csv": ROWS}, "text/csv"), "validation": ChannelData({"b.csv": b"0,1\n"}, "text/csv")},
            "validation channel has 1 feature column",
        ),
    ],
    ids=["no-train-data", "non-numeric", "libsvm", "metric-for-another-task", "wrong-width"],
)
def test_bad_input_fails_with_a_client_error(
    sqlite_server: RunningServer,
    algorithm_bucket: str,
    algorithm_role: str,
    hyperparameters: dict,
    channels: dict,
    reason: str,
) -> None:
    assert_client_error(train(sqlite_server, algorithm_bucket, algorithm_role, hyperparameters, **channels), reason)
