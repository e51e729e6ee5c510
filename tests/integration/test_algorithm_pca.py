"""PCA through CreateTrainingJob: CSV and RecordIO, both modes, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.decomposition import PCA

from shipyard.algorithms.pca import serve
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

WINE = load_wine().data.astype(np.float32)
FEATURES = WINE.shape[1]
HYPERPARAMETERS = {"feature_dim": FEATURES, "num_components": 3, "mini_batch_size": 50}


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "pca", hyperparameters, channels)


@pytest.mark.parametrize(
    ("content_type", "encode", "mode", "tolerance"),
    [
        ("text/csv", csv_bytes, "regular", 1e-6),
        ("application/x-recordio-protobuf", recordio_bytes, "randomized", 1e-3),
    ],
    ids=["csv-regular", "recordio-randomized"],
)
def test_training_finds_scikit_learns_components(
    sqlite_server: RunningServer,
    algorithm_bucket: str,
    algorithm_role: str,
    tmp_path: Path,
    content_type: str,
    encode,
    mode: str,
    tolerance: float,
) -> None:
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {**HYPERPARAMETERS, "algorithm_mode": mode},
        train=ChannelData({"train": encode(WINE)}, content_type),
        test=ChannelData({"test": encode(WINE[:30])}, content_type),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    # SageMaker's PCA has no metrics to report.
    assert final_metrics(description) == {}

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    reference = PCA(3, svd_solver="full").fit(WINE.astype(np.float64))
    variance = predictor.model.explained_variance
    np.testing.assert_allclose(variance, reference.explained_variance_, rtol=tolerance, atol=tolerance)
    body, response_type = predictor.invoke(csv_bytes(WINE[:4]), "text/csv", "application/json")
    assert response_type == "application/json"
    projections = np.array([row["projection"] for row in json.loads(body)["projections"]])
    expected = reference.transform(WINE[:4].astype(np.float64))
    np.testing.assert_allclose(np.abs(projections), np.abs(expected), rtol=1e-3, atol=1e-2)


CSV = ChannelData({"a.csv": csv_bytes(WINE[:20])}, "text/csv")


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        ({**HYPERPARAMETERS, "feature_dim": 12}, {"train": CSV}, "13 feature column.*feature_dim is 12"),
        (HYPERPARAMETERS, {"train": ChannelData({"a.csv": b"1,2,3\n4,x,6\n"}, "text/csv")}, "non-numeric value 'x'"),
        (HYPERPARAMETERS, {"train": ChannelData({"a.svm": b"0 0:1\n"}, "text/libsvm")}, "text/libsvm"),
        ({"feature_dim": FEATURES, "num_components": 3}, {"train": CSV}, "hyperparameter.*: mini_batch_size"),
        ({**HYPERPARAMETERS, "num_components": 14}, {"train": CSV}, "num_components is 14.*only 13 feature"),
    ],
    ids=["wrong-width", "non-numeric", "libsvm", "no-mini-batch-size", "too-many-components"],
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
