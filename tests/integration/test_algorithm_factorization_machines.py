"""Factorization Machines through CreateTrainingJob: sparse RecordIO ratings, metrics, the model, bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from shipyard.algorithms import recordio
from shipyard.algorithms.factorization_machines import serve
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
USERS, ITEMS = 120, 80
HYPERPARAMETERS = {
    "feature_dim": USERS + ITEMS,
    "num_factors": 6,
    "predictor_type": "regressor",
    "epochs": 20,
    "mini_batch_size": 200,
    "linear_lr": 0.05,
    "factors_lr": 0.05,
    "factors_init_sigma": 0.1,
}


def ratings() -> tuple[sp.csr_matrix, np.ndarray]:
    """Rank-2 ratings around 3 (noise 0.2) of 40% of user x item pairs, one-hot encoded."""
    rng = np.random.default_rng(5)
    users, items = rng.normal(size=(USERS, 2)) / 2**0.25, rng.normal(size=(ITEMS, 2)) / 2**0.25
    user, item = np.nonzero(rng.random((USERS, ITEMS)) < 0.4)
    order = rng.permutation(len(user))
    user, item = user[order], item[order]
    values = 3.0 + np.sum(users[user] * items[item], axis=1) + rng.normal(scale=0.2, size=len(user))
    rows = np.repeat(np.arange(len(user)), 2)
    columns = np.column_stack([user, USERS + item]).ravel()
    features = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, columns)), shape=(len(user), USERS + ITEMS))
    return features, values


FEATURES, VALUES = ratings()
SPLIT = int(0.8 * len(VALUES))


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "factorization-machines", hyperparameters, channels)


def test_regressor_beats_the_global_mean(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        HYPERPARAMETERS,
        train=ChannelData({"train.rec": recordio_bytes(FEATURES[:SPLIT], VALUES[:SPLIT])}, RECORDIO),
        test=ChannelData({"test.rec": recordio_bytes(FEATURES[SPLIT:], VALUES[SPLIT:])}, RECORDIO),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    baseline = float(np.sqrt(np.mean((VALUES[SPLIT:] - VALUES[:SPLIT].mean()) ** 2)))
    assert metrics["test:rmse"] <= 0.9 * baseline
    assert "train:rmse" in metrics

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    instances = [
        {"data": {"features": {"keys": row.indices.tolist(), "shape": [USERS + ITEMS], "values": row.data.tolist()}}}
        for row in FEATURES[SPLIT:]
    ]
    body, content_type = predictor.invoke(json.dumps({"instances": instances}).encode(), "application/json", None)
    assert content_type == "application/json"
    scores = np.array([row["score"] for row in json.loads(body)["predictions"]])
    assert np.sqrt(np.mean((scores - VALUES[SPLIT:]) ** 2)) == pytest.approx(metrics["test:rmse"], rel=1e-4)


def test_binary_classifier(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    labels = (VALUES > 3.0).astype(np.float32)
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {**HYPERPARAMETERS, "predictor_type": "binary_classifier", "linear_lr": 0.02, "factors_lr": 0.02},
        train=ChannelData({"train.rec": recordio_bytes(FEATURES[:SPLIT], labels[:SPLIT])}, RECORDIO),
        test=ChannelData({"test.rec": recordio_bytes(FEATURES[SPLIT:], labels[SPLIT:])}, RECORDIO),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert metrics["test:binary_classification_accuracy"] > 0.75
    assert metrics["test:binary_f_beta"] > 0.7
    assert metrics["test:binary_classification_cross_entropy"] < 0.6

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    body, _ = predictor.invoke(recordio_bytes(FEATURES[SPLIT:]), RECORDIO, RECORDIO)
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(body))]
    predicted = np.array([record.label["predicted_label"].values[0] for record in records])
    assert np.mean(predicted == labels[SPLIT:]) == pytest.approx(metrics["test:binary_classification_accuracy"], abs=1e-6)


TRAIN = ChannelData({"a.rec": recordio_bytes(FEATURES[:20], VALUES[:20])}, RECORDIO)


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (HYPERPARAMETERS, {"train": ChannelData({"a.csv": csv_bytes(FEATURES[:5].toarray(), VALUES[:5])}, "text/csv")}, "text/csv"),
        ({**HYPERPARAMETERS, "feature_dim": 100}, {"train": TRAIN}, "200 feature column.*feature_dim is 100"),
        ({"feature_dim": 200, "predictor_type": "regressor"}, {"train": TRAIN}, "hyperparameter.*num_factors"),
        (HYPERPARAMETERS, {"test": TRAIN}, "needs the channel.*train"),
    ],
    ids=["csv", "wrong-feature-dim", "no-num-factors", "no-train-channel"],
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
