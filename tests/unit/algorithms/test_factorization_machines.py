"""Factorization Machines: low-rank ratings against the global mean, the model, training, inference."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sagemaker.amazon.common import write_spmatrix_to_sparse_tensor

from shipyard.algorithms import recordio
from shipyard.algorithms.container import Channel
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.factorization_machines import ALGORITHM, serve
from shipyard.algorithms.factorization_machines.model import FactorizationMachine
from shipyard.algorithms.factorization_machines.train import fit
from shipyard.algorithms.factorization_machines.trainer import train
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    logged_metrics,
    recordio_bytes,
)

RECORDIO = "application/x-recordio-protobuf"
USERS, ITEMS = 200, 150
#: Settings that learn the synthetic ratings in seconds (SageMaker's defaults train one epoch at tiny rates).
FAST = {
    "num_factors": "8",
    "epochs": "15",
    "mini_batch_size": "250",
    "linear_lr": "0.05",
    "factors_lr": "0.05",
    "factors_init_sigma": "0.1",
}

#: Slower rates for the classifier, which otherwise overfits (overconfident scores) within 15 epochs.
GENTLE = {"linear_lr": "0.02", "factors_lr": "0.02"}


def ratings(seed: int = 0, density: float = 0.3) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rank-3 user x item ratings around 3 with noise 0.3, one-hot encoded: user columns, then item columns.

    There are no user or item biases, so only the pairwise factors can beat the global mean.
    """
    rng = np.random.default_rng(seed)
    users, items = rng.normal(size=(USERS, 3)) / 3**0.25, rng.normal(size=(ITEMS, 3)) / 3**0.25
    user, item = np.nonzero(rng.random((USERS, ITEMS)) < density)
    order = rng.permutation(len(user))
    user, item = user[order], item[order]
    values = 3.0 + np.sum(users[user] * items[item], axis=1) + rng.normal(scale=0.3, size=len(user))
    return one_hot(user, item), values


def one_hot(user: np.ndarray, item: np.ndarray) -> sp.csr_matrix:
    rows = np.repeat(np.arange(len(user)), 2)
    columns = np.column_stack([user, USERS + item]).ravel()
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, columns)), shape=(len(user), USERS + ITEMS))


def raw_hyperparameters(predictor_type: str = "regressor", **raw: str) -> dict[str, str]:
    """The job's hyperparameters: :data:`FAST` for the synthetic ratings, and ``raw``."""
    return {"feature_dim": str(USERS + ITEMS), "predictor_type": predictor_type, **FAST, **raw}


def hyperparameters(predictor_type: str = "regressor", **raw: str) -> dict:
    return ALGORITHM.parse_hyperparameters(raw_hyperparameters(predictor_type, **raw))


FEATURES, VALUES = ratings()
SPLIT = int(0.8 * len(VALUES))


def rmse(predictions: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((predictions - truth) ** 2)))


# -- quality ------------------------------------------------------------------------------


def test_rmse_is_at_least_10_percent_better_than_the_global_mean() -> None:
    model = train(FEATURES[:SPLIT], VALUES[:SPLIT], hyperparameters())
    baseline = rmse(np.full(len(VALUES) - SPLIT, VALUES[:SPLIT].mean()), VALUES[SPLIT:])
    assert rmse(model.scores(FEATURES[SPLIT:]), VALUES[SPLIT:]) <= 0.9 * baseline


def test_the_factors_do_the_work() -> None:
    """With one factor too few to fit rank-3 ratings, the held-out error is clearly worse."""
    full = train(FEATURES[:SPLIT], VALUES[:SPLIT], hyperparameters())
    starved = train(FEATURES[:SPLIT], VALUES[:SPLIT], hyperparameters(num_factors="1"))
    assert rmse(full.scores(FEATURES[SPLIT:]), VALUES[SPLIT:]) < 0.8 * rmse(
        starved.scores(FEATURES[SPLIT:]), VALUES[SPLIT:]
    )


def test_binary_classifier_beats_the_majority_class() -> None:
    labels = (VALUES > 3.0).astype(np.float64)
    model = train(FEATURES[:SPLIT], labels[:SPLIT], hyperparameters("binary_classifier", **GENTLE))
    accuracy = np.mean((model.scores(FEATURES[SPLIT:]) >= 0.5) == labels[SPLIT:])
    majority = max(labels[SPLIT:].mean(), 1 - labels[SPLIT:].mean())
    assert accuracy > majority + 0.2


def test_each_epoch_reports_the_training_rmse() -> None:
    reports: list[tuple[int, float]] = []
    train(FEATURES, VALUES, hyperparameters(epochs="3"), report=lambda *report: reports.append(report))
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    assert reports[2][1] < reports[0][1]


# -- the model ------------------------------------------------------------------------------


def test_outputs_match_the_pairwise_definition() -> None:
    rng = np.random.default_rng(4)
    model = FactorizationMachine("regressor", 0.5, rng.normal(size=5), rng.normal(size=(5, 3)))
    rows = rng.normal(size=(4, 5)) * (rng.random((4, 5)) < 0.6)
    expected = [
        model.bias
        + row @ model.linear
        + sum(model.factors[i] @ model.factors[j] * row[i] * row[j] for i, j in itertools.combinations(range(5), 2))
        for row in rows
    ]
    np.testing.assert_allclose(model.outputs(rows), expected)
    np.testing.assert_allclose(model.outputs(sp.csr_matrix(rows)), expected)


def test_gradient_steps_touch_only_the_batch_features() -> None:
    """Features absent from the training data keep their initial (constant) parameters."""
    features = FEATURES[:, : USERS + ITEMS - 10]
    features = sp.csr_matrix(features, shape=(features.shape[0], USERS + ITEMS))
    hp = hyperparameters(epochs="1", linear_init_method="constant", factors_init_method="constant", factors_init_value="0.2")
    model = train(features, VALUES, hp)
    assert np.all(model.linear[-10:] == 0.0) and np.all(model.factors[-10:] == 0.2)
    assert np.all(model.linear[:10] != 0.0)


def test_initialisation_methods() -> None:
    hp = hyperparameters(
        epochs="1",
        bias_init_method="constant",
        bias_init_value="2.5",
        bias_lr="0",
        linear_init_method="uniform",
        linear_init_scale="0.5",
        linear_lr="0",
        factors_lr="0",
    )
    model = train(FEATURES, VALUES, hp)
    assert model.bias == 2.5
    assert np.abs(model.linear).max() <= 0.5 and np.abs(model.linear).max() > 0.4
    assert model.factors.std() == pytest.approx(0.1, rel=0.05)


def test_save_and_load(tmp_path: Path) -> None:
    model = train(FEATURES[:500], VALUES[:500], hyperparameters(epochs="1"))
    model.save(tmp_path)
    loaded = FactorizationMachine.load(tmp_path)
    np.testing.assert_array_equal(loaded.factors, model.factors)
    np.testing.assert_allclose(loaded.scores(FEATURES[:20]), model.scores(FEATURES[:20]))


# -- hyperparameters ----------------------------------------------------------------------


def test_declared_defaults_are_sagemakers() -> None:
    values = ALGORITHM.parse_hyperparameters({"feature_dim": "10", "num_factors": "2", "predictor_type": "regressor"})
    assert values["epochs"] == 1 and values["mini_batch_size"] == 1000
    assert (values["bias_lr"], values["linear_lr"], values["factors_lr"]) == (0.1, 0.001, 0.0001)
    assert (values["bias_wd"], values["linear_wd"], values["factors_wd"]) == (0.01, 0.001, 0.00001)
    assert values["factors_init_method"] == "normal" and values["factors_init_sigma"] == 0.001


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"num_factors": "2", "predictor_type": "regressor"}, "Missing required hyperparameter.*feature_dim"),
        ({"feature_dim": "10", "predictor_type": "regressor"}, "Missing required hyperparameter.*num_factors"),
        ({"feature_dim": "10", "num_factors": "2"}, "Missing required hyperparameter.*predictor_type"),
        ({"feature_dim": "10", "num_factors": "2", "predictor_type": "multiclass_classifier"}, "predictor_type"),
        ({"feature_dim": "10", "num_factors": "0", "predictor_type": "regressor"}, "num_factors: must be >= 1"),
        ({"feature_dim": "10", "num_factors": "2", "predictor_type": "regressor", "factors_lr": "-1"}, "factors_lr"),
        ({"feature_dim": "10", "num_factors": "2", "predictor_type": "regressor", "bias_init_method": "xavier"}, "bias_init_method"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


# -- training in a job's tree ---------------------------------------------------------------


def run_fit(root: Path, channels: list[Channel], predictor_type: str = "regressor", **raw: str) -> dict[str, float]:
    """Run ``fit`` in-process as the container would; the metrics it logged (last value of each)."""
    lines = fit_in_process(ALGORITHM, fit, root, channels, raw_hyperparameters(predictor_type, **raw))
    return logged_metrics(ALGORITHM, lines)


@pytest.fixture(scope="module")
def regressor(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    root = tmp_path_factory.mktemp("fm")
    channels = [
        channel_at(root, "train", {"part-0": recordio_bytes(FEATURES[:SPLIT], VALUES[:SPLIT])}, RECORDIO),
        channel_at(root, "test", {"part-0": recordio_bytes(FEATURES[SPLIT:], VALUES[SPLIT:])}, RECORDIO),
    ]
    return root / "model", run_fit(root, channels)


def test_fit_logs_test_rmse(regressor: tuple[Path, dict[str, float]]) -> None:
    model_dir, metrics = regressor
    assert set(metrics) == {"test:rmse", "train:rmse"}
    model = FactorizationMachine.load(model_dir)
    assert metrics["test:rmse"] == pytest.approx(rmse(model.scores(FEATURES[SPLIT:]), VALUES[SPLIT:]), rel=1e-6)
    assert metrics["test:rmse"] < 0.9 * VALUES[SPLIT:].std()


def test_binary_fit_logs_accuracy_cross_entropy_and_f1(tmp_path: Path) -> None:
    labels = (VALUES > 3.0).astype(np.float32)
    channels = [
        channel_at(tmp_path, "train", {"part-0": recordio_bytes(FEATURES[:SPLIT], labels[:SPLIT])}, RECORDIO),
        channel_at(tmp_path, "test", {"part-0": recordio_bytes(FEATURES[SPLIT:], labels[SPLIT:])}, RECORDIO),
    ]
    metrics = run_fit(tmp_path, channels, "binary_classifier", **GENTLE)
    assert set(metrics) == {
        "test:binary_classification_accuracy",
        "test:binary_classification_cross_entropy",
        "test:binary_f_beta",
        "train:binary_classification_cross_entropy",
    }
    assert metrics["test:binary_classification_accuracy"] > 0.75
    assert metrics["test:binary_f_beta"] > 0.7
    assert metrics["test:binary_classification_cross_entropy"] < 0.6


def test_training_data_written_by_the_sagemaker_sdk(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    write_spmatrix_to_sparse_tensor(buffer, FEATURES[:2000], VALUES[:2000].astype(np.float32))
    metrics = run_fit(tmp_path, [channel_at(tmp_path, "train", {"part-0": buffer.getvalue()}, RECORDIO)], epochs="2")
    ours = train(FEATURES[:2000], VALUES[:2000].astype(np.float32), hyperparameters(epochs="2"))
    np.testing.assert_allclose(FactorizationMachine.load(tmp_path / "model").factors, ours.factors, rtol=1e-5)
    assert set(metrics) == {"train:rmse"}


def test_dense_recordio_trains_too(tmp_path: Path) -> None:
    dense = FEATURES[:2000].toarray()
    channels = [channel_at(tmp_path, "train", {"part-0": recordio_bytes(dense, VALUES[:2000])}, RECORDIO)]
    metrics = run_fit(tmp_path, channels, epochs="2")
    assert set(metrics) == {"train:rmse"}


@pytest.mark.parametrize(
    ("body", "predictor_type", "message"),
    [
        (recordio_bytes(FEATURES[:50, :300], VALUES[:50]), "regressor", "300 feature column.*feature_dim is 350"),
        (recordio_bytes(FEATURES[:50]), "regressor", "no labels"),
        (recordio_bytes(FEATURES[:50], VALUES[:50]), "binary_classifier", "a binary_classifier needs labels 0 and 1"),
        (b"not recordio", "regressor", "not valid RecordIO-protobuf"),
    ],
    ids=["wrong-feature-dim", "unlabelled", "binary-labels", "garbage"],
)
def test_bad_training_data_is_a_client_error(tmp_path: Path, body: bytes, predictor_type: str, message: str) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": body}, RECORDIO)]
    with pytest.raises(AlgorithmError, match=message):
        run_fit(tmp_path, channels, predictor_type)


# -- inference ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(regressor: tuple[Path, dict[str, float]]) -> serve.FactorizationMachinePredictor:
    return serve.load(regressor[0])


def sparse_instances(features: sp.csr_matrix) -> list[dict]:
    return [
        {"data": {"features": {"keys": row.indices.tolist(), "shape": [row.shape[1]], "values": row.data.tolist()}}}
        for row in features
    ]


def test_sparse_json_request(predictor: serve.FactorizationMachinePredictor) -> None:
    rows = FEATURES[SPLIT : SPLIT + 5]
    request = json.dumps({"instances": sparse_instances(rows)}).encode()
    body, content_type = predictor.invoke(request, "application/json", "application/json")
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert all(list(row) == ["score"] for row in predictions)
    np.testing.assert_allclose([row["score"] for row in predictions], predictor.model.scores(rows), rtol=1e-6)


def test_jsonlines_request_and_response(predictor: serve.FactorizationMachinePredictor) -> None:
    rows = FEATURES[:3]
    request = "".join(json.dumps(instance) + "\n" for instance in sparse_instances(rows)).encode()
    body, content_type = predictor.invoke(request, "application/jsonlines", "application/jsonlines")
    assert content_type == "application/jsonlines"
    scores = [json.loads(line)["score"] for line in body.decode().splitlines()]
    np.testing.assert_allclose(scores, predictor.model.scores(rows), rtol=1e-6)


def test_recordio_request_and_response(predictor: serve.FactorizationMachinePredictor) -> None:
    rows = FEATURES[:4]
    body, content_type = predictor.invoke(recordio_bytes(rows), RECORDIO, RECORDIO)
    assert content_type == RECORDIO
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(body))]
    scores = [float(record.label["score"].values[0]) for record in records]
    np.testing.assert_allclose(scores, predictor.model.scores(rows), rtol=1e-6)


def test_binary_rows_carry_the_label(tmp_path: Path) -> None:
    model = FactorizationMachine("binary_classifier", 0.0, np.array([2.0, -2.0]), np.zeros((2, 1)))
    model.save(tmp_path)
    request = json.dumps({"instances": [{"features": [1.0, 0.0]}, {"features": [0.0, 1.0]}]}).encode()
    predictions = json.loads(serve.load(tmp_path).invoke(request, "application/json", None)[0])["predictions"]
    assert [row["predicted_label"] for row in predictions] == [1, 0]
    assert predictions[0]["score"] == pytest.approx(1 / (1 + np.exp(-2.0)))


def test_bad_requests(predictor: serve.FactorizationMachinePredictor) -> None:
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(csv_bytes(FEATURES[:1].toarray()), "text/csv", None)
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(json.dumps({"instances": sparse_instances(FEATURES[:1])}).encode(), "application/json", "text/csv")
    outside = {"instances": [{"data": {"features": {"keys": [400], "shape": [350], "values": [1.0]}}}]}
    with pytest.raises(BadRequest, match="key outside 0..349"):
        predictor.invoke(json.dumps(outside).encode(), "application/json", None)
    with pytest.raises(BadRequest):
        predictor.invoke(b"{not json", "application/json", None)
