"""Linear Learner through CreateTrainingJob: CSV and RecordIO (dense, sparse), metrics, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from shipyard.algorithms.linear_learner import serve
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

RECORDIO = "application/x-recordio-protobuf"
SMALL_DATA = {"mini_batch_size": 32, "epochs": 30}


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "linear-learner", {**SMALL_DATA, **hyperparameters}, channels)


def test_binary_classifier_on_csv_with_validation_and_test(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"predictor_type": "binary_classifier", "binary_classifier_model_selection_criteria": "f_beta"},
        train=ChannelData({"train.csv": csv_bytes(features[::2], labels[::2])}, "text/csv"),
        validation=ChannelData({"validation.csv": csv_bytes(features[1::4], labels[1::4])}, "text/csv"),
        test=ChannelData({"test.csv": csv_bytes(features[3::4], labels[3::4])}, "text/csv"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    for channel in ("validation", "test"):
        for name in ("objective_loss", "binary_classification_accuracy", "binary_f_beta", "precision", "recall"):
            assert f"{channel}:{name}" in metrics
    assert "train:objective_loss" in metrics
    assert metrics["test:binary_classification_accuracy"] > 0.93
    assert metrics["validation:roc_auc_score"] > 0.97

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, content_type = predictor.invoke(csv_bytes(features[3::4]), "text/csv", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert all(set(row) == {"score", "predicted_label"} and 0 <= row["score"] <= 1 for row in predictions)
    accuracy = np.mean([row["predicted_label"] for row in predictions] == labels[3::4])
    assert accuracy == pytest.approx(metrics["test:binary_classification_accuracy"], abs=1e-6)


def test_multiclass_classifier_on_dense_recordio(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_iris(return_X_y=True)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"predictor_type": "multiclass_classifier", "num_classes": 3, "feature_dim": 4},
        train=ChannelData({"train.rec": recordio_bytes(features[::2], labels[::2])}, RECORDIO),
        test=ChannelData({"test.rec": recordio_bytes(features[1::2], labels[1::2])}, RECORDIO),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert metrics["test:multiclass_accuracy"] > 0.9
    assert metrics["test:multiclass_top_k_accuracy"] == 1.0  # k = 3 of 3 classes
    assert {"test:macro_f_beta", "test:macro_precision", "test:macro_recall", "test:dcg"} <= set(metrics)

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, _ = predictor.invoke(recordio_bytes(features[1::2]), RECORDIO, "application/jsonlines")
    rows = [json.loads(line) for line in body.decode().splitlines()]
    assert all(len(row["score"]) == 3 for row in rows)
    accuracy = np.mean([row["predicted_label"] for row in rows] == labels[1::2])
    assert accuracy == pytest.approx(metrics["test:multiclass_accuracy"], abs=1e-6)


def test_regressor_on_sparse_recordio(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_diabetes(return_X_y=True)
    features = sp.csr_matrix(np.where(features > 0, features, 0.0))
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"predictor_type": "regressor"},
        train=ChannelData({"train.rec": recordio_bytes(features[:350], labels[:350])}, RECORDIO),
        test=ChannelData({"test.rec": recordio_bytes(features[350:], labels[350:])}, RECORDIO),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert metrics["test:rmse"] < 0.85 * labels[350:].std()
    assert metrics["test:mse"] == pytest.approx(metrics["test:rmse"] ** 2, rel=1e-5)

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, content_type = predictor.invoke(recordio_bytes(features[350:]), RECORDIO, "text/csv")
    assert content_type == "text/csv"
    scores = np.array([float(line) for line in body.decode().splitlines()])
    assert np.sqrt(np.mean((scores - labels[350:]) ** 2)) == pytest.approx(metrics["test:rmse"], rel=1e-4)


BINARY = {"predictor_type": "binary_classifier"}
TRAIN_CSV = ChannelData({"a.csv": b"1,0.5,2\n0,1.5,3\n"}, "text/csv")


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        ({**BINARY, "feature_dim": 3}, {"train": TRAIN_CSV}, "2 feature column.*feature_dim is 3"),
        (BINARY, {"train": ChannelData({"a.csv": b"1,0.5,2\n0,x,3\n"}, "text/csv")}, "non-numeric value 'x'"),
        (BINARY, {"validation": TRAIN_CSV}, "needs the channel.*train"),
        (BINARY, {"train": ChannelData({"a.svm": b"1 0:0.5\n"}, "text/libsvm")}, "text/libsvm"),
        ({"predictor_type": "multiclass_classifier"}, {"train": TRAIN_CSV}, "num_classes"),
    ],
    ids=["wrong-width", "non-numeric", "no-train-channel", "unknown-content-type", "no-num-classes"],
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
