"""Random Cut Forest through CreateTrainingJob: CSV and RecordIO, test metrics, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from shipyard.algorithms.random_cut_forest import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    csv_bytes,
    download_model,
    final_metrics,
    recordio_bytes,
    train_builtin,
)

FEATURES = 3
SMALL = {"feature_dim": FEATURES, "num_trees": 50, "num_samples_per_tree": 128}
TEST_METRICS = {"test:f1", "test:accuracy", "test:precision", "test:recall"}


def normal(rng: np.random.Generator, count: int) -> np.ndarray:
    return rng.normal(size=(count, FEATURES)).astype(np.float32)


def labelled(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """400 normal records and 20 anomalies far outside them."""
    outliers = rng.uniform(5, 10, size=(20, FEATURES)) * rng.choice([-1, 1], size=(20, FEATURES))
    features = np.vstack([normal(rng, 400), outliers]).astype(np.float32)
    return features, np.r_[np.zeros(400), np.ones(20)].astype(np.float32)


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "randomcutforest", hyperparameters, channels)


def test_csv_training_with_a_labelled_test_channel(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    test_features, test_labels = labelled(rng)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        SMALL,
        train=ChannelData({"train.csv": csv_bytes(normal(rng, 600))}, "text/csv"),
        test=ChannelData({"test.csv": csv_bytes(test_features, test_labels)}, "text/csv;label_size=1"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == TEST_METRICS
    assert metrics["test:accuracy"] > 0.95 and metrics["test:f1"] > 0.6
    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    response, content_type = predictor.invoke(csv_bytes(test_features), "text/csv", "application/json")
    assert content_type == "application/json"
    scores = [row["score"] for row in json.loads(response)["scores"]]
    assert roc_auc_score(test_labels, scores) >= 0.9
    assert 0.5 < np.mean(scores[:400]) < 1.5


def test_recordio_training_with_sdk_style_eval_metrics(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    rng = np.random.default_rng(1)
    test_features, test_labels = labelled(rng)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {**SMALL, "eval_metrics": json.dumps(["precision_recall_fscore"])},
        train=ChannelData({"train.rec": recordio_bytes(normal(rng, 600))}, "application/x-recordio-protobuf"),
        test=ChannelData({"test.rec": recordio_bytes(test_features, test_labels)}, "application/x-recordio-protobuf"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"test:f1", "test:precision", "test:recall"}
    assert metrics["test:precision"] > 0.8
    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    accept = "application/jsonlines"
    response, _ = predictor.invoke(recordio_bytes(test_features[-2:]), "application/x-recordio-protobuf", accept)
    rows = [json.loads(line) for line in response.decode().splitlines()]
    assert len(rows) == 2 and all(row["score"] > 2 for row in rows)


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (SMALL, {"train": ChannelData({"a.csv": b"1,2\n3,4\n"}, "text/csv")}, "2 feature column.*feature_dim is 3"),
        (SMALL, {"train": ChannelData({"a.csv": b"1,2,3\n4,x,6\n"}, "text/csv")}, "non-numeric value 'x'"),
        (SMALL, {"test": ChannelData({"a.csv": b"0,1,2,3\n"}, "text/csv;label_size=1")}, "needs the channel.*train"),
        (SMALL, {"train": ChannelData({"a.svm": b"0 0:1\n"}, "text/libsvm")}, "text/libsvm"),
        ({"num_trees": 50}, {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")}, "feature_dim"),
        ({**SMALL, "num_trees": 10}, {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")}, "num_trees"),
    ],
    ids=["wrong-width", "non-numeric", "no-train-channel", "libsvm", "no-feature-dim", "few-trees"],
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
