"""K-Means through CreateTrainingJob: CSV and RecordIO, test metrics, the model, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from shipyard.algorithms.kmeans import serve
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
HYPERPARAMETERS = {"k": 4, "feature_dim": FEATURES, "mini_batch_size": 100}


def blobs(seed: int) -> np.ndarray:
    """600 records in 4 clusters; the first 450 to train on, the rest to test."""
    return make_blobs(600, n_features=FEATURES, centers=4, cluster_std=1.0, random_state=seed)[0].astype(np.float32)


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "kmeans", hyperparameters, channels)


@pytest.mark.parametrize(
    ("content_type", "encode", "suffix"),
    [("text/csv", csv_bytes, "csv"), ("application/x-recordio-protobuf", recordio_bytes, "rec")],
    ids=["csv", "recordio"],
)
def test_training_scores_the_test_channel(
    sqlite_server: RunningServer,
    algorithm_bucket: str,
    algorithm_role: str,
    tmp_path: Path,
    content_type: str,
    encode,
    suffix: str,
) -> None:
    data = blobs(3)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {**HYPERPARAMETERS, "eval_metrics": json.dumps(["msd", "ssd"])},
        train=ChannelData({f"train.{suffix}": encode(data[:450])}, content_type),
        test=ChannelData({f"test.{suffix}": encode(data[450:])}, content_type),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"test:msd", "test:ssd"}
    reference = KMeans(4, n_init=10, random_state=0).fit(data[:450])
    reference_msd = float(np.mean(np.min(reference.transform(data[450:]), axis=1) ** 2))
    assert metrics["test:msd"] <= 1.02 * reference_msd
    assert metrics["test:ssd"] == pytest.approx(150 * metrics["test:msd"], rel=1e-4)

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, response_type = predictor.invoke(csv_bytes(data[450:]), "text/csv", "application/json")
    assert response_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert len(predictions) == 150
    distances = np.array([row["distance_to_cluster"] for row in predictions])
    assert float(np.mean(distances**2)) == pytest.approx(metrics["test:msd"], rel=1e-4)
    # The same partition as scikit-learn's, up to the clusters' numbering.
    clusters = [row["closest_cluster"] for row in predictions]
    assert adjusted_rand_score(reference.predict(data[450:]), clusters) == 1.0


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (HYPERPARAMETERS, {"train": ChannelData({"a.csv": b"1,2\n3,4\n"}, "text/csv")}, "2 feature column.*feature_dim is 3"),
        (HYPERPARAMETERS, {"train": ChannelData({"a.csv": b"1,2,3\n4,x,6\n"}, "text/csv")}, "non-numeric value 'x'"),
        (HYPERPARAMETERS, {"test": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")}, "needs the channel.*train"),
        (HYPERPARAMETERS, {"train": ChannelData({"a.pq": b"PAR1"}, "application/x-parquet")}, "application/x-parquet"),
        ({"feature_dim": FEATURES}, {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")}, "hyperparameter.*: k"),
        (
            {**HYPERPARAMETERS, "init_method": "forgy"},
            {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")},
            "init_method",
        ),
    ],
    ids=["wrong-width", "non-numeric", "no-train-channel", "unknown-content-type", "no-k", "bad-init-method"],
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
