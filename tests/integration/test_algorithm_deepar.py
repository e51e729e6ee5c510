"""DeepAR through CreateTrainingJob: JSON lines (plain and gzipped), test metrics, the model's
forecasts, and bad input failing with a ClientError."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shipyard.algorithms.deepar import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    download_model,
    final_metrics,
    train_builtin,
)

HORIZON = 7
HYPERPARAMETERS = {
    "time_freq": "D",
    "context_length": 14,
    "prediction_length": HORIZON,
    "epochs": 10,
    "num_cells": 20,
    "num_layers": 1,
    "learning_rate": 0.01,
    "mini_batch_size": 32,
    "test_quantiles": "[0.1, 0.5, 0.9]",
}


def weekly_series(count: int = 20, seed: int = 5) -> list[dict[str, Any]]:
    """Daily series with a weekly pattern and 10% noise: 10 weeks plus the horizon."""
    rng = np.random.default_rng(seed)
    days = np.arange(70 + HORIZON)
    records = []
    for index in range(count):
        level = rng.uniform(5, 20)
        values = level * (1 + rng.uniform(-0.4, 0.4, 7)[days % 7]) + rng.normal(0, 0.1 * level, len(days))
        records.append({"start": "2024-01-01 00:00:00", "target": values.round(4).tolist(), "cat": index % 2})
    return records


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def history(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(record, target=record["target"][:-HORIZON]) for record in records]


def train(server: RunningServer, bucket: str, role: str, hyperparameters: dict, **channels: ChannelData) -> dict:
    return train_builtin(server, bucket, role, "forecasting-deepar", hyperparameters, channels)


def test_training_reports_test_metrics_and_the_model_forecasts(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path
) -> None:
    records = weekly_series()
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        HYPERPARAMETERS,
        train=ChannelData({"train.json": jsonl(history(records))}, "application/jsonlines"),
        test=ChannelData({"test.json.gz": gzip.compress(jsonl(records))}, "application/jsonlines"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    expected = {"test:RMSE", "test:mean_wQuantileLoss", "test:mean_absolute_QuantileLoss", "train:final_loss", "train:loss"}
    assert expected | {"test:wQuantileLoss[0.1]", "test:wQuantileLoss[0.5]", "test:wQuantileLoss[0.9]"} <= set(metrics)
    assert "test:wQuantileLoss[0.2]" not in metrics  # only the requested test_quantiles are scored
    assert 0 < metrics["test:mean_wQuantileLoss"] < 0.2
    assert metrics["test:mean_wQuantileLoss"] == pytest.approx(
        np.mean([metrics[f"test:wQuantileLoss[{level}]"] for level in ("0.1", "0.5", "0.9")]), rel=1e-4
    )

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    request = {
        "instances": [{"start": item["start"], "target": item["target"][:-HORIZON], "cat": [item["cat"]]} for item in records[:2]],
        "configuration": {"num_samples": 50, "output_types": ["mean", "quantiles", "samples"], "quantiles": ["0.1", "0.9"]},
    }
    body, content_type = predictor.invoke(json.dumps(request).encode(), "application/json", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert len(predictions) == 2
    for record, prediction in zip(records[:2], predictions, strict=True):
        assert len(prediction["samples"]) == 50 and len(prediction["mean"]) == HORIZON
        low, high = np.array(prediction["quantiles"]["0.1"]), np.array(prediction["quantiles"]["0.9"])
        assert (low <= high).all()
        truth = np.array(record["target"][-HORIZON:])
        assert np.abs(np.array(prediction["mean"]) - truth).mean() < 0.25 * np.abs(truth).mean()

    lines = jsonl([dict(item, target=item["target"][:-HORIZON]) for item in records[:3]])
    body, content_type = predictor.invoke(lines, "application/jsonlines", None)
    assert content_type == "application/jsonlines"
    assert [len(json.loads(line)["mean"]) for line in body.decode().splitlines()] == [HORIZON] * 3


def test_json_content_type_trains_without_a_test_channel(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str
) -> None:
    description = train(
        sqlite_server,
        algorithm_bucket,
        algorithm_role,
        {**HYPERPARAMETERS, "epochs": 2, "likelihood": "gaussian", "cardinality": "ignore"},
        train=ChannelData({"series.json": jsonl(history(weekly_series(count=6)))}, "json"),
    )
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert {"train:final_loss", "train:loss"} <= set(metrics) and "test:RMSE" not in metrics
    assert metrics["train:final_loss"] <= metrics["train:loss"]


GOOD = jsonl(history(weekly_series(count=2)))


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (
            HYPERPARAMETERS,
            {"train": ChannelData({"a.json": b'{"start": "2024-01-01", "target": [1, "lots", 3]}\n'}, "application/jsonlines")},
            r"a\.json in the train channel: line 1: target holds 'lots'",
        ),
        (HYPERPARAMETERS, {"test": ChannelData({"a.json": GOOD}, "application/jsonlines")}, "needs the channel.*train"),
        (HYPERPARAMETERS, {"train": ChannelData({"a.csv": b"1,2,3\n"}, "text/csv")}, "Content type 'text/csv'"),
        (
            {key: value for key, value in HYPERPARAMETERS.items() if key != "time_freq"},
            {"train": ChannelData({"a.json": GOOD}, "application/jsonlines")},
            "Missing required hyperparameter.*time_freq",
        ),
        (
            {**HYPERPARAMETERS, "time_freq": "3Q"},
            {"train": ChannelData({"a.json": GOOD}, "application/jsonlines")},
            "hyperparameter time_freq",
        ),
    ],
    ids=["non-numeric-target", "no-train-channel", "unknown-content-type", "no-time-freq", "bad-time-freq"],
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
