"""XGBoost through CreateTrainingJob: CSV, libsvm and RecordIO, SageMaker's metrics, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from shipyard.algorithms.content_types import ContentType
from shipyard.algorithms.data import read_channel
from shipyard.algorithms.xgboost import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    csv_bytes,
    download_model,
    final_metrics,
    libsvm_bytes,
    recordio_bytes,
    train_builtin,
)


def halves(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(0).permutation(len(labels))
    train, validation = order[: len(order) * 3 // 4], order[len(order) * 3 // 4 :]
    return features[train], labels[train], features[validation], labels[validation]


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "xgboost", hyperparameters, channels)


def test_csv_binary_classification_reports_sagemaker_metrics(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    x_train, y_train, x_val, y_val = halves(*load_breast_cancer(return_X_y=True))
    hyperparameters = {"num_round": 20, "objective": "binary:logistic", "max_depth": 3, "eval_metric": "auc,error,accuracy"}
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        hyperparameters,
        train=ChannelData({"train.csv": csv_bytes(x_train, y_train)}, "text/csv"),
        validation=ChannelData({"validation.csv": csv_bytes(x_val, y_val)}, "text/csv"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    names = {f"{channel}:{metric}" for channel in ("train", "validation") for metric in ("auc", "error", "accuracy")}
    assert set(metrics) == names
    assert metrics["validation:auc"] > 0.95 and metrics["validation:accuracy"] > 0.9
    assert metrics["validation:error"] == pytest.approx(1 - metrics["validation:accuracy"], abs=1e-4)

    model = download_model(sqlite_server, description, tmp_path / "model")
    assert (model / "xgboost-model").is_file()
    response, content_type = serve.load(model, {}).invoke(csv_bytes(x_val), "text/csv", None)
    assert content_type == "text/csv"
    scores = np.array(response.decode().split(","), dtype=np.float64)
    assert np.mean((scores > 0.5) == y_val) == pytest.approx(metrics["validation:accuracy"], abs=1e-4)


def test_libsvm_is_the_default_content_type(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    x_train, y_train, x_val, y_val = halves(*load_diabetes(return_X_y=True))
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"num_round": 30, "eta": 0.1, "max_depth": 3, "seed": 5, "subsample": 0.9},
        train=ChannelData({"train.libsvm": libsvm_bytes(x_train, y_train)}),
        validation=ChannelData({"validation.libsvm": libsvm_bytes(x_val, y_val)}),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"train:rmse", "validation:rmse"}
    assert metrics["train:rmse"] < metrics["validation:rmse"] < np.std(y_val)

    # The job's booster is xgboost.train's on the same rows (its histograms do not depend on the thread count).
    train_dir = tmp_path / "train"
    train_dir.mkdir()
    (train_dir / "train.libsvm").write_bytes(libsvm_bytes(x_train, y_train))
    rows = read_channel("train", train_dir, ContentType.parse("text/libsvm"))
    params = {"eta": 0.1, "max_depth": 3, "seed": 5, "subsample": 0.9}
    reference = xgboost.train(params, xgboost.DMatrix(rows.features, label=rows.labels), 30)
    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"), {})
    body = libsvm_bytes(x_val, y_val)
    response, _ = predictor.invoke(body, "text/libsvm", "application/json")
    predictions = np.array(json.loads(response), dtype=np.float32)
    assert np.array_equal(predictions, reference.predict(xgboost.DMatrix(predictor.decode(body, "text/libsvm"))))
    rmse = float(np.sqrt(np.mean((predictions - y_val) ** 2)))
    assert rmse == pytest.approx(metrics["validation:rmse"], rel=1e-3)


def test_recordio_multiclass_serves_probabilities(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    features, labels = load_iris(return_X_y=True)
    x_train, y_train, x_val, y_val = halves(features.astype(np.float32), labels.astype(np.float32))
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {"num_round": 10, "objective": "multi:softprob", "num_class": 3, "eval_metric": "merror,mlogloss"},
        train=ChannelData({"train.rec": recordio_bytes(x_train, y_train)}, "application/x-recordio-protobuf"),
        validation=ChannelData({"validation.rec": recordio_bytes(x_val, y_val)}, "application/x-recordio-protobuf"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"train:merror", "train:mlogloss", "validation:merror", "validation:mlogloss"}
    assert metrics["validation:merror"] < 0.1

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"), {})
    response, _ = predictor.invoke(recordio_bytes(x_val), "application/x-recordio-protobuf", "application/json")
    probabilities = np.array(json.loads(response))
    assert probabilities.shape == (len(y_val), 3)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.mean(probabilities.argmax(axis=1) != y_val) == pytest.approx(metrics["validation:merror"], abs=1e-4)


CSV_ROWS = b"1,0.5,2\n0,1.5,1\n1,0.2,3\n"


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (
            {"num_round": 2},
            {"train": ChannelData({"a.csv": CSV_ROWS}, "text/csv"), "validation": ChannelData({"b.csv": b"1,2\n"}, "text/csv")},
            "validation channel has 1 feature column.*train channel has 2",
        ),
        ({"num_round": 2}, {"train": ChannelData({"a.csv": b"1,2,3\n0,x,1\n"}, "text/csv")}, "non-numeric value 'x'"),
        ({"num_round": 2}, {"validation": ChannelData({"a.csv": CSV_ROWS}, "text/csv")}, "needs the channel.*train"),
        ({"num_round": 2}, {"train": ChannelData({"a.json": b"{}"}, "application/json")}, "application/json.*not supported"),
        ({"eta": 0.1}, {"train": ChannelData({"a.csv": CSV_ROWS}, "text/csv")}, "Missing required hyperparameter.*num_round"),
        (
            {"num_round": 2, "objective": "multi:softmax", "num_class": 2},
            {"train": ChannelData({"a.csv": b"2,0.5,2\n0,1.5,1\n"}, "text/csv")},
            r"label 2; labels must be integers in \[0, num_class\)",
        ),
    ],
    ids=["wrong-width", "non-numeric", "no-train-channel", "unknown-content-type", "no-num-round", "label-range"],
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
