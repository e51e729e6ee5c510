"""DeepAR: the quality bar against the seasonal-naive forecast, data and hyperparameter checks,
likelihoods, features, training without torch, and the inference handler's formats."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.algorithms.deepar import ALGORITHM, serve
from shipyard.algorithms.deepar.config import ModelConfig
from shipyard.algorithms.deepar.forecaster import Forecaster
from shipyard.algorithms.deepar.frequency import Frequency
from shipyard.algorithms.deepar.metrics import score_forecasts
from shipyard.algorithms.deepar.series import Fields, Series, parse_record
from shipyard.algorithms.deepar.train import fit
from shipyard.algorithms.deepar.training import Settings, train
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.testing.algorithms import (
    ChannelData,
    channel_at,
    fit_in_process,
    logged_metrics,
    run_container_without_torch,
)

JSONLINES = "application/jsonlines"
HORIZON = 7
QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
#: Small and quick: a few seconds of training on one core.
QUICK = {
    "time_freq": "D",
    "context_length": "14",
    "prediction_length": str(HORIZON),
    "epochs": "10",
    "num_cells": "20",
    "num_layers": "1",
    "learning_rate": "0.01",
    "mini_batch_size": "32",
    "num_eval_samples": "100",
}


def seasonal_records(count: int = 20, weeks: int = 12, seed: int = 1) -> list[dict[str, Any]]:
    """Daily series: a level, a weekly pattern and 10% noise, each ``weeks`` weeks plus the horizon."""
    rng = np.random.default_rng(seed)
    days = np.arange(weeks * 7 + HORIZON)
    records = []
    for _ in range(count):
        level = rng.uniform(5, 20)
        pattern = rng.uniform(-0.4, 0.4, 7) * level
        values = level + pattern[days % 7] + rng.normal(0, 0.1 * level, len(days))
        records.append({"start": "2024-01-01 00:00:00", "target": [round(float(v), 4) for v in values]})
    return records


def cut(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records without their last ``HORIZON`` values (and dynamic features), as a train channel."""
    shortened = []
    for record in records:
        item = dict(record, target=record["target"][:-HORIZON])
        if "dynamic_feat" in record:
            item["dynamic_feat"] = [row[:-HORIZON] for row in record["dynamic_feat"]]
        shortened.append(item)
    return shortened


def jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


@dataclass
class Job:
    """A training run of :func:`fit` in a temporary tree, and what it logged."""

    model_dir: Path
    log: list[str]

    def metric(self, name: str) -> float:
        """The last value a metric of the declaration picked from the log."""
        return logged_metrics(ALGORITHM, self.log)[name]


def run_fit(
    root: Path,
    hyperparameters: dict[str, str],
    channels: dict[str, bytes],
    content_type: str = JSONLINES,
    file_name: str = "data.json",
) -> Job:
    found = [channel_at(root, name, {file_name: body}, content_type) for name, body in channels.items()]
    return Job(root / "model", fit_in_process(ALGORITHM, fit, root, found, hyperparameters))


@pytest.fixture(scope="module")
def seasonal() -> list[dict[str, Any]]:
    return seasonal_records()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, seasonal: list[dict[str, Any]]) -> Job:
    channels = {"train": jsonl(cut(seasonal)), "test": jsonl(seasonal)}
    return run_fit(tmp_path_factory.mktemp("deepar"), QUICK, channels)


@pytest.fixture(scope="module")
def predictor(trained: Job) -> serve.DeepARPredictor:
    return serve.load(trained.model_dir)


# -- quality ------------------------------------------------------------------------------


def test_mean_weighted_quantile_loss_beats_the_seasonal_naive_forecast(trained: Job, seasonal: list[dict[str, Any]]) -> None:
    truth = np.array([record["target"][-HORIZON:] for record in seasonal])
    # Seasonal naive: the last week before the horizon, repeated; all its quantiles are that value.
    naive = np.array([record["target"][-2 * HORIZON : -HORIZON] for record in seasonal])[:, None, :]
    reference = score_forecasts(truth, naive, QUANTILES)
    model_loss = trained.metric("test:mean_wQuantileLoss")
    assert model_loss < 0.9 * reference["mean_wQuantileLoss"], (model_loss, reference["mean_wQuantileLoss"])
    assert trained.metric("test:RMSE") < reference["RMSE"]


def test_training_logs_sagemakers_metrics(trained: Job) -> None:
    epochs = [line for line in trained.log if re.search(r"epoch=\d+, train loss <loss>=", line)]
    assert len(epochs) == int(QUICK["epochs"])
    assert trained.metric("train:final_loss") == min(float(line.rsplit("=", 1)[1]) for line in epochs)
    assert trained.metric("train:loss") == float(epochs[-1].rsplit("=", 1)[1])
    scores = {name: trained.metric(name) for name in ("test:mean_absolute_QuantileLoss", "test:wQuantileLoss[0.1]")}
    assert all(np.isfinite(value) and value > 0 for value in scores.values())
    levels = [trained.metric(f"test:wQuantileLoss[{level}]") for level in QUANTILES]
    assert trained.metric("test:mean_wQuantileLoss") == pytest.approx(np.mean(levels))


def test_weighted_quantile_loss_follows_the_documented_formula() -> None:
    truth = np.array([[1.0, 2.0, np.nan]])
    samples = np.array([[[1.0, 4.0, 0.0]]])
    scores = score_forecasts(truth, samples, [0.5, 0.9])
    assert scores["RMSE"] == pytest.approx(np.sqrt((0 + 4) / 2))
    # τ=0.5: 2 (|0| + |(2-4)(1-0.5)|) = 2; τ=0.9: 2 (|0 (1-0.9)| + |(2-4)(1-0.9)|) = 0.4; weight Σ|y| = 3.
    assert scores["wQuantileLoss[0.5]"] == pytest.approx(2 / 3)
    assert scores["wQuantileLoss[0.9]"] == pytest.approx(0.4 / 3)
    assert scores["mean_absolute_QuantileLoss"] == pytest.approx(1.2)
    assert scores["mean_wQuantileLoss"] == pytest.approx(1.2 / 3)


def test_dynamic_features_known_in_the_future_drive_the_forecast(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    records = []
    for index in range(12):
        promotion = (rng.random(70 + HORIZON) < 0.3).astype(float)
        values = 10 + 8 * promotion + rng.normal(0, 0.5, len(promotion))
        records.append(
            {"start": "2024-01-01", "target": values.round(3).tolist(), "cat": index % 2, "dynamic_feat": [promotion.tolist()]}
        )
    job = run_fit(tmp_path, {**QUICK, "epochs": "15", "learning_rate": "0.02", "likelihood": "gaussian"}, {"train": jsonl(cut(records))})
    forecaster = Forecaster.load(job.model_dir)
    assert forecaster.config.num_dynamic_feat == 1 and forecaster.config.cardinality == (2,)
    history = records[0]["target"][:-HORIZON]
    future = [1.0, 0.0] * 3 + [1.0]
    instance = {"start": "2024-01-01", "target": history, "cat": 0, "dynamic_feat": [records[0]["dynamic_feat"][0][:-HORIZON] + future]}
    mean = forecaster.sample([parse_record(instance)], 200).mean(axis=1)[0]
    promoted, plain = mean[np.array(future) == 1], mean[np.array(future) == 0]
    # The promotion adds 8: the forecast follows the planned promotions, not the past pattern.
    assert promoted.min() > plain.max() + 4, mean


# -- likelihoods --------------------------------------------------------------------------


@pytest.mark.parametrize("likelihood", ["gaussian", "student-T", "negative-binomial", "beta", "deterministic-L1"])
def test_each_likelihood_trains_and_samples_in_its_domain(likelihood: str) -> None:
    rng = np.random.default_rng(0)
    if likelihood == "beta":
        values = rng.uniform(0.2, 0.8, (6, 40))
    elif likelihood == "negative-binomial":
        values = rng.poisson(5, (6, 40)).astype(float)
    else:
        values = rng.normal(50, 5, (6, 40))
    series = [Series(pd.Timestamp("2024-01-01"), row.astype(np.float32)) for row in values]
    config = ModelConfig("D", 7, 3, (1, 2, 3, 7), (), 0, 4, 8, 1, 0.1, likelihood)
    forecaster = Forecaster(config)
    outcome = train(forecaster, series, Settings(epochs=2, learning_rate=0.01, mini_batch_size=16))
    assert len(outcome.losses) == 2 and all(np.isfinite(outcome.losses))
    samples = forecaster.sample(series[:2], 20)
    assert samples.shape == (2, 20, 3) and np.isfinite(samples).all()
    if likelihood == "beta":
        assert ((samples >= 0) & (samples <= 1)).all()
    if likelihood == "negative-binomial":
        assert (samples >= 0).all() and (samples == np.round(samples)).all()
    if likelihood == "deterministic-L1":
        assert (samples == samples[:, :1]).all()


def test_targets_outside_the_likelihoods_domain_fail(tmp_path: Path) -> None:
    records = cut(seasonal_records(count=3, weeks=4))
    with pytest.raises(AlgorithmError, match="negative-binomial likelihood needs non-negative integer"):
        run_fit(tmp_path / "nb", {**QUICK, "likelihood": "negative-binomial"}, {"train": jsonl(records)})
    with pytest.raises(AlgorithmError, match="beta likelihood needs targets between 0 and 1"):
        run_fit(tmp_path / "beta", {**QUICK, "likelihood": "beta"}, {"train": jsonl(records)})


def test_early_stopping_keeps_the_lowest_loss_epoch() -> None:
    series = [Series(pd.Timestamp("2024-01-01"), np.full(30, 5.0, dtype=np.float32)) for _ in range(4)]
    forecaster = Forecaster(ModelConfig("D", 5, 2, (1, 2, 3), (), 0, 4, 4, 1, 0.0, "gaussian"))
    outcome = train(forecaster, series, Settings(epochs=60, learning_rate=0.5, mini_batch_size=8, early_stopping_patience=1))
    assert len(outcome.losses) < 60
    assert outcome.best_loss == min(outcome.losses)
    assert len(outcome.losses) - 1 - outcome.best_epoch == 1


# -- frequency ----------------------------------------------------------------------------


def test_time_freq_sets_lags_and_date_features() -> None:
    daily = Frequency.parse("D")
    assert daily.lags(longest=400) == [1, 2, 3, 7, 14, 21, 28, 365]
    assert daily.lags(longest=30) == [1, 2, 3, 7, 14, 21, 28]
    assert Frequency.parse("2H").lags(longest=1000) == [1, 2, 3, 12, 24, 36, 84]
    assert str(Frequency.parse("5min")) == "5min" and Frequency.parse("5min").lags(1000)[3:] == [12, 24, 288]
    dates = Frequency.parse("H").dates(pd.Timestamp("2024-01-01 22:00"), 3, first=-1)
    assert list(dates.hour) == [21, 22, 23]
    features = Frequency.parse("H").time_features(dates)
    assert features.shape == (3, 4) and features.min() >= -0.5 and features.max() <= 0.5
    assert list(Frequency.parse("M").dates(pd.Timestamp("2024-01-31"), 3).day) == [31, 29, 31]


@pytest.mark.parametrize("text", ["", "S", "0D", "5 min", "2Q", "d"])
def test_invalid_time_freq_is_a_client_error(text: str) -> None:
    with pytest.raises(AlgorithmError, match="hyperparameter time_freq"):
        Frequency.parse(text)


# -- hyperparameters ----------------------------------------------------------------------


def test_required_hyperparameters_are_named_when_missing() -> None:
    with pytest.raises(AlgorithmError, match="context_length, epochs, prediction_length, time_freq"):
        ALGORITHM.parse_hyperparameters({})
    with pytest.raises(AlgorithmError, match="likelihood"):
        ALGORITHM.parse_hyperparameters({**QUICK, "likelihood": "poisson"})
    with pytest.raises(AlgorithmError, match="prediction_length"):
        ALGORITHM.parse_hyperparameters({**QUICK, "prediction_length": "0"})
    values = ALGORITHM.parse_hyperparameters(QUICK)
    assert values["likelihood"] == "student-T" and values["embedding_dimension"] == 10 and values["dropout_rate"] == 0.1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"time_freq": "fortnightly"}, "hyperparameter time_freq"),
        ({"test_quantiles": "[0.5, 1.5]"}, "test_quantiles"),
        ({"cardinality": "[3, 4]"}, "cardinality has 2 value"),
        ({"cardinality": "[1]"}, "out of range for cardinality 1"),
        ({"cardinality": "many"}, "hyperparameter cardinality"),
        ({"num_dynamic_feat": "2"}, "num_dynamic_feat is 2, but the time series have 0"),
        ({"prediction_length": "200"}, "longer than prediction_length"),
    ],
)
def test_invalid_settings_for_the_data_are_client_errors(tmp_path: Path, overrides: dict[str, str], message: str) -> None:
    records = [dict(record, cat=index % 3) for index, record in enumerate(seasonal_records(count=3, weeks=3))]
    with pytest.raises(AlgorithmError, match=re.escape(message)):
        run_fit(tmp_path, {**QUICK, **overrides}, {"train": jsonl(records)})


def test_ignore_drops_features_present_in_the_data() -> None:
    series = [parse_record({"start": "2024-01-01", "target": [1, 2], "cat": [0, 4], "dynamic_feat": [[1, 2]]})]
    fields = Fields.resolve("ignore", "", series)
    assert fields == Fields() and fields.select(series[0]).cat == ()
    assert Fields.resolve("auto", "auto", series) == Fields((1, 5), 1)


# -- data ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"start": "2024-01-01", "target": [1, 2]}\n{"start": "2024-01-01", "target": [1,\n', "line 2: it is not valid JSON"),
        (b'{"target": [1, 2, 3]}\n', "line 1: the record has no 'start' field"),
        (b'{"start": "2024-01-01"}\n', "no 'target' field"),
        (b'{"start": "yesterday-ish", "target": [1]}\n', "is not a time stamp"),
        (b'{"start": "2024-01-01", "target": [1, "high", 3]}\n', "target holds 'high'"),
        (b'{"start": "2024-01-01", "target": [1, 2], "cat": -1}\n', "categories must be non-negative integers"),
        (b'{"start": "2024-01-01", "target": [1, 2], "dynamic_feat": [[1, null]]}\n', "dynamic_feat"),
        (b'{"start": "2024-01-01", "target": [1, 2, 3], "dynamic_feat": [[1, 2]]}\n', "must be as long as the target"),
        (b'{"start": "2024-01-01", "target": [1, 2], "cat": 1}\n{"start": "2024-01-01", "target": [1, 2]}\n', "same number of cat"),
        (b"\n\n", "holds no time series"),
    ],
)
def test_bad_training_data_is_a_client_error_naming_the_problem(tmp_path: Path, body: bytes, message: str) -> None:
    with pytest.raises(AlgorithmError, match=re.escape(message)):
        run_fit(tmp_path, QUICK, {"train": body})


def test_gzipped_json_files_and_missing_values_train(tmp_path: Path) -> None:
    records = cut(seasonal_records(count=4, weeks=4))
    records[0]["target"][5] = "NaN"
    records[1]["target"][9] = None
    body = gzip.compress(jsonl(records))
    job = run_fit(tmp_path, {**QUICK, "epochs": "1"}, {"train": body}, content_type="application/json", file_name="series.json.gz")
    assert (job.model_dir / "model.json").is_file() and (job.model_dir / "model.npz").is_file()
    assert np.isfinite(job.metric("train:final_loss"))


def test_test_series_must_extend_past_the_horizon(tmp_path: Path, seasonal: list[dict[str, Any]]) -> None:
    short = [{"start": "2024-01-01", "target": [1.0] * HORIZON}]
    with pytest.raises(AlgorithmError, match="Test time series 0 has 7 values"):
        run_fit(tmp_path, QUICK, {"train": jsonl(cut(seasonal[:3])), "test": jsonl(short)})


def test_training_without_torch_fails_with_the_install_hint(tmp_path: Path) -> None:
    channels = {"train": ChannelData({"train.json": jsonl(cut(seasonal_records(count=2, weeks=3)))}, JSONLINES)}
    code, failure = run_container_without_torch("deepar", tmp_path, QUICK, channels)
    assert code == 2
    assert failure == "ClientError: install shipyard[deep] to use forecasting-deepar"


# -- inference ----------------------------------------------------------------------------


def instance(record: dict[str, Any]) -> dict[str, Any]:
    return {"start": record["start"], "target": record["target"][:-HORIZON]}


def test_json_request_returns_the_documented_prediction_shape(predictor: serve.DeepARPredictor, seasonal: list[dict[str, Any]]) -> None:
    request = {
        "instances": [instance(seasonal[0]), {"start": "2024-03-01", "target": [4.0, "NaN", 6.0]}],
        "configuration": {"num_samples": 30, "output_types": ["mean", "quantiles", "samples"], "quantiles": ["0.5", "0.9"]},
    }
    body, content_type = predictor.invoke(json.dumps(request).encode(), "application/json", None)
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert len(predictions) == 2
    first = predictions[0]
    assert set(first) == {"mean", "quantiles", "samples"} and set(first["quantiles"]) == {"0.5", "0.9"}
    assert len(first["mean"]) == HORIZON and len(first["samples"]) == 30 and all(len(path) == HORIZON for path in first["samples"])
    assert all(high >= median for high, median in zip(first["quantiles"]["0.9"], first["quantiles"]["0.5"], strict=True))
    # The forecast of a training series follows its weekly pattern: close to the held-out week.
    truth = np.array(seasonal[0]["target"][-HORIZON:])
    assert np.abs(np.array(first["mean"]) - truth).mean() < 0.2 * np.abs(truth).mean()


def test_configuration_defaults_to_mean_and_nine_quantiles(predictor: serve.DeepARPredictor, seasonal: list[dict[str, Any]]) -> None:
    body, _ = predictor.invoke(json.dumps({"instances": [instance(seasonal[1])]}).encode(), "application/json", "application/json")
    (prediction,) = json.loads(body)["predictions"]
    assert set(prediction) == {"mean", "quantiles"}
    assert list(prediction["quantiles"]) == [str(level) for level in QUANTILES]


def test_json_lines_requests_answer_one_prediction_per_line(
    predictor: serve.DeepARPredictor, seasonal: list[dict[str, Any]], trained: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = jsonl([instance(record) for record in seasonal[:3]])
    response, content_type = predictor.invoke(body, "application/jsonlines", None)
    assert content_type == JSONLINES
    lines = [json.loads(line) for line in response.decode().splitlines()]
    assert len(lines) == 3 and all(set(line) == {"mean", "quantiles"} for line in lines)
    # Batch transform's configuration comes from DEEPAR_INFERENCE_CONFIG.
    monkeypatch.setenv("DEEPAR_INFERENCE_CONFIG", json.dumps({"num_samples": 5, "output_types": ["samples"]}))
    configured = serve.load(trained.model_dir)
    response, _ = configured.invoke(body, "application/jsonlines", "application/json")
    predictions = json.loads(response)["predictions"]
    assert [set(item) for item in predictions] == [{"samples"}] * 3 and len(predictions[0]["samples"]) == 5


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "error"),
    [
        (b"{}", "text/csv", None, UnsupportedContentType),
        (b'{"instances": []}', "application/json", "text/csv", UnsupportedAccept),
        (b"{not json", "application/json", None, BadRequest),
        (b'{"instances": []}', "application/json", None, BadRequest),
        (b'{"instances": [{"start": "2024-01-01", "target": [1]}], "configuration": {"num_samples": 0}}', "application/json", None, BadRequest),
        (b'{"instances": [{"start": "2024-01-01", "target": [1]}], "configuration": {"output_types": ["median"]}}', "application/json", None, BadRequest),
        (b'{"instances": [{"start": "2024-01-01", "target": [1]}], "configuration": {"quantiles": ["2"]}}', "application/json", None, BadRequest),
        (b'{"instances": [{"target": [1]}]}', "application/json", None, BadRequest),
        (b'{"start": "2024-01-01", "target": ["x"]}\n', "application/jsonlines", None, BadRequest),
    ],
)
def test_bad_requests_get_http_errors(
    predictor: serve.DeepARPredictor, body: bytes, content_type: str, accept: str | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        predictor.invoke(body, content_type, accept)


def test_a_model_trained_with_features_requires_them_at_inference(tmp_path: Path) -> None:
    records = [dict(record, cat=[index % 2], dynamic_feat=[[0.0] * len(record["target"])]) for index, record in enumerate(seasonal_records(count=4, weeks=3))]
    job = run_fit(tmp_path, {**QUICK, "epochs": "1"}, {"train": jsonl(records)})
    predictor = serve.load(job.model_dir)
    history = records[0]["target"]
    good = {"start": "2024-01-01", "target": history, "cat": [1], "dynamic_feat": [[0.0] * (len(history) + HORIZON)]}
    body, _ = predictor.invoke(json.dumps({"instances": [good]}).encode(), "application/json", None)
    assert len(json.loads(body)["predictions"][0]["mean"]) == HORIZON
    for broken, message in [
        ({**good, "cat": []}, "uses 1 cat value"),
        ({**good, "cat": [2]}, "cardinality allows 0 to 1"),
        ({**good, "dynamic_feat": [[0.0] * len(history)]}, f"must have {len(history) + HORIZON} values"),
    ]:
        with pytest.raises(BadRequest, match=re.escape(message)):
            predictor.invoke(json.dumps({"instances": [broken]}).encode(), "application/json", None)


def test_the_saved_model_loads_with_its_config_and_weights(trained: Job) -> None:
    forecaster = Forecaster.load(trained.model_dir)
    assert forecaster.config.prediction_length == HORIZON and forecaster.config.likelihood == "student-T"
    assert forecaster.config.lags == (1, 2, 3, 7, 14, 21, 28)
    saved = np.load(trained.model_dir / "model.npz")
    for name, value in forecaster.network.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), saved[name])
