"""k-NN through CreateTrainingJob: classifier on CSV, regressor on RecordIO, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from shipyard.algorithms import recordio
from shipyard.algorithms.knn import serve
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


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "knn", hyperparameters, channels)


def test_classifier_on_csv_reports_test_accuracy(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_wine(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(features, labels, test_size=0.3, random_state=1, stratify=labels)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"feature_dim": 13, "k": 5, "predictor_type": "classifier", "sample_size": 500},
        train=ChannelData({"train.csv": csv_bytes(train_x, train_y)}, "text/csv"),
        test=ChannelData({"test.csv": csv_bytes(test_x, test_y)}, "text/csv"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    reference = KNeighborsClassifier(5).fit(train_x, train_y)
    metrics = final_metrics(description)
    assert set(metrics) == {"test:accuracy"}
    assert abs(metrics["test:accuracy"] - reference.score(test_x, test_y)) <= 0.01

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, response_type = predictor.invoke(csv_bytes(test_x), "text/csv", "application/json; verbose=true")
    assert response_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert [row["predicted_label"] for row in predictions] == reference.predict(test_x).tolist()
    assert all(len(row["labels"]) == len(row["distances"]) == 5 for row in predictions)
    assert all(row["distances"] == sorted(row["distances"]) for row in predictions)


def test_regressor_on_recordio_reports_test_mse(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, targets = load_diabetes(return_X_y=True)
    features, targets = features.astype(np.float32), targets.astype(np.float32)
    train_x, test_x, train_y, test_y = train_test_split(features, targets, test_size=0.3, random_state=0)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"feature_dim": 10, "k": 7, "predictor_type": "regressor", "sample_size": 1000, "index_type": "faiss.IVFFlat"},
        train=ChannelData({"train.rec": recordio_bytes(train_x, train_y)}, "application/x-recordio-protobuf"),
        test=ChannelData({"test.rec": recordio_bytes(test_x, test_y)}, "application/x-recordio-protobuf"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    reference = KNeighborsRegressor(7).fit(train_x, train_y)
    reference_mse = float(np.mean((reference.predict(test_x) - test_y) ** 2))
    metrics = final_metrics(description)
    assert set(metrics) == {"test:mse"}
    # An IVF index searches only the cells nearest each query: close to the exact search.
    assert metrics["test:mse"] <= 1.1 * reference_mse

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, response_type = predictor.invoke(
        recordio_bytes(test_x), "application/x-recordio-protobuf", "application/x-recordio-protobuf"
    )
    assert response_type == "application/x-recordio-protobuf"
    predicted = np.array([row["predicted_label"][0] for row in recordio.decode_predictions(body)])
    assert float(np.mean((predicted - test_y) ** 2)) == pytest.approx(metrics["test:mse"], rel=1e-4)


CLASSIFIER = {"feature_dim": 3, "k": 2, "predictor_type": "classifier", "sample_size": 10}
LABELLED = ChannelData({"a.csv": b"0,1,2,3\n1,4,5,6\n0,7,8,9\n"}, "text/csv")


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        ({**CLASSIFIER, "feature_dim": 4}, {"train": LABELLED}, "3 feature column.*feature_dim is 4"),
        (CLASSIFIER, {"train": ChannelData({"a.csv": b"0,1,2,3\n1,4,x,6\n"}, "text/csv")}, "non-numeric value 'x'"),
        (CLASSIFIER, {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv;label_size=0")}, "train channel has no labels"),
        (CLASSIFIER, {"test": LABELLED}, "needs the channel.*train"),
        (CLASSIFIER, {"train": ChannelData({"a.svm": b"0 0:1\n"}, "text/libsvm")}, "text/libsvm"),
        ({"feature_dim": 3, "k": 2, "sample_size": 10}, {"train": LABELLED}, "hyperparameter.*: predictor_type"),
        ({**CLASSIFIER, "dimension_reduction_type": "sign"}, {"train": LABELLED}, "dimension_reduction_target is required"),
    ],
    ids=["wrong-width", "non-numeric", "unlabelled", "no-train-channel", "libsvm", "no-predictor-type", "no-target"],
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
