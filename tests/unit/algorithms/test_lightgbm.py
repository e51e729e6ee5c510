"""LightGBM: identical to ``lightgbm.train``, JumpStart's data layout, metric lines, inference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import lightgbm
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import accuracy_score, mean_absolute_error

from shipyard.algorithms.container import Channel
from shipyard.algorithms.content_types import ContentType
from shipyard.algorithms.data import read_channel
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.lightgbm import ALGORITHM, serve
from shipyard.algorithms.lightgbm.inputs import read_inputs
from shipyard.algorithms.lightgbm.train import MODEL_FILE, fit, task_of
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    training_context,
)

CSV = "text/csv"
QUIET = {"num_threads": "1", "verbosity": "-1"}

#: The parameters the defaults of SageMaker's LightGBM hyperparameters stand for.
DEFAULTS = {
    "learning_rate": 0.1, "num_leaves": 64, "feature_fraction": 0.9, "bagging_fraction": 0.9, "bagging_freq": 1,
    "max_depth": 6, "min_data_in_leaf": 3, "max_delta_step": 0.0, "lambda_l1": 0.0, "lambda_l2": 0.0,
    "boosting": "gbdt", "min_gain_to_split": 0.0, "tree_learner": "serial", "feature_fraction_bynode": 1.0,
    "max_bin": 255, "seed": 0, "num_threads": 1, "verbosity": -1,
}


def jumpstart_channel(root: Path, train: bytes, validation: bytes | None = None, categorical: str | None = None) -> Channel:
    """JumpStart's training channel as the train channel: train/data.csv, validation/data.csv,
    categorical_index.json."""
    files = {"train/data.csv": train}
    if validation is not None:
        files["validation/data.csv"] = validation
    if categorical is not None:
        files["categorical_index.json"] = categorical.encode()
    return channel_at(root, "train", files, CSV)


def rows(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """A CSV folder's features and labels as the algorithm reads them."""
    data = read_channel("reference", directory, ContentType.parse(CSV), allow_missing=True)
    return data.features, data.labels


def reference(params: dict, train_dir: Path, validation_dir: Path, rounds: int = 100) -> tuple[lightgbm.Booster, dict]:
    """``lightgbm.train`` as a script would run it, with JumpStart's early stopping (10 rounds)."""
    x_train, y_train = rows(train_dir)
    x_val, y_val = rows(validation_dir)
    train = lightgbm.Dataset(x_train, y_train)
    validation = lightgbm.Dataset(x_val, y_val, reference=train)
    history: dict = {}
    booster = lightgbm.train(
        {**DEFAULTS, **params}, train, rounds, valid_sets=[train, validation], valid_names=["train", "validation"],
        callbacks=[lightgbm.early_stopping(10, verbose=False), lightgbm.record_evaluation(history)],
    )
    return booster, history


def logged(lines: list[str], metric: str) -> list[float]:
    definition = next(item for item in ALGORITHM.metrics if item.name == metric)
    return [float(match.group(1)) for line in lines if (match := re.search(definition.regex, line))]


def round_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"\[\d+\]\t", line)]


def split(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(0).permutation(len(labels))
    cut = len(labels) * 3 // 4
    return features[order[:cut]], labels[order[:cut]], features[order[cut:]], labels[order[cut:]]


# -- quality: the same model as lightgbm.train ---------------------------------------------


def test_binary_classifier_from_jumpstart_layout_is_identical_to_lightgbm_train(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_breast_cancer(return_X_y=True))
    training = jumpstart_channel(tmp_path, csv_bytes(x_train, y_train), csv_bytes(x_val, y_val))
    hyperparameters = {**QUIET, "num_boost_round": "60", "metric": "auc"}
    lines = round_lines(fit_in_process(ALGORITHM, fit, tmp_path, [training], hyperparameters))

    booster, history = reference({"objective": "binary", "metric": "auc", "is_unbalance": False,
                                  "scale_pos_weight": 1.0}, training.path / "train", training.path / "validation", 60)
    response, content_type = serve.load(tmp_path / "model").invoke(csv_bytes(x_val), CSV, None)
    assert content_type == "application/json"
    probabilities = np.array(json.loads(response)["probabilities"])
    expected = booster.predict(rows(training.path / "validation")[0])
    assert np.array_equal(probabilities[:, 1], expected)
    assert np.allclose(probabilities.sum(axis=1), 1)
    # Training stops 10 rounds after the best one, which the model keeps.
    assert len(lines) == len(history["validation"]["auc"]) == booster.best_iteration + 10
    assert logged(lines, "validation:auc") == pytest.approx(history["validation"]["auc"], abs=1e-6)
    assert logged(lines, "train:auc") == pytest.approx(history["train"]["auc"], abs=1e-6)
    assert accuracy_score(y_val, probabilities.argmax(axis=1)) > 0.9


def test_regressor_from_train_and_validation_channels_is_identical(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_diabetes(return_X_y=True))
    train = channel_at(tmp_path, "train", {"data.csv": csv_bytes(x_train, y_train)}, CSV)
    validation = channel_at(tmp_path, "validation", {"data.csv": csv_bytes(x_val, y_val)}, CSV)
    hyperparameters = {**QUIET, "metric": "l1", "learning_rate": "0.05", "num_leaves": "8", "lambda_l2": "1"}
    lines = round_lines(fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], hyperparameters))

    booster, history = reference({"objective": "regression", "metric": "l1", "learning_rate": 0.05, "num_leaves": 8,
                                  "lambda_l2": 1.0}, train.path, validation.path)
    response, _ = serve.load(tmp_path / "model").invoke(csv_bytes(x_val), CSV, "application/json")
    predictions = np.array(json.loads(response)["prediction"])
    assert np.array_equal(predictions, booster.predict(rows(validation.path)[0]))
    assert logged(lines, "validation:l1") == pytest.approx(history["validation"]["l1"], rel=1e-5)
    assert mean_absolute_error(y_val, predictions) < 0.8 * mean_absolute_error(y_val, np.full_like(y_val, y_train.mean()))


def test_multiclass_labels_are_detected_and_served_with_verbose_labels(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_iris(return_X_y=True))
    training = jumpstart_channel(tmp_path, csv_bytes(x_train, y_train), csv_bytes(x_val, y_val))
    fit_in_process(ALGORITHM, fit, tmp_path, [training], {**QUIET, "num_boost_round": "30", "min_data_in_leaf": "5"})

    booster, _ = reference({"objective": "multiclass", "num_class": 3, "metric": "multi_logloss",
                            "min_data_in_leaf": 5}, training.path / "train", training.path / "validation", 30)
    predictor = serve.load(tmp_path / "model")
    response, _ = predictor.invoke(csv_bytes(x_val), CSV, "application/json;verbose")
    answer = json.loads(response)
    assert np.array_equal(np.array(answer["probabilities"]), booster.predict(rows(training.path / "validation")[0]))
    assert answer["labels"] == [0, 1, 2]
    assert accuracy_score(y_val, answer["predicted_label"]) > 0.9


def test_without_validation_data_20_percent_is_held_out(tmp_path: Path) -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    training = jumpstart_channel(tmp_path, csv_bytes(features, labels))
    inputs = read_inputs(training_context(ALGORITHM, tmp_path, [training], {**QUIET, "seed": "3"}))
    assert (inputs.train.rows, inputs.validation.rows) == (455, 114)
    together = np.vstack([inputs.train.features, inputs.validation.features])
    assert np.array_equal(np.unique(together, axis=0), np.unique(rows(training.path / "train")[0], axis=0))
    again = read_inputs(training_context(ALGORITHM, tmp_path, [training], {**QUIET, "seed": "3"}))
    other = read_inputs(training_context(ALGORITHM, tmp_path, [training], {**QUIET, "seed": "4"}))
    assert np.array_equal(again.validation.labels, inputs.validation.labels)
    assert not np.array_equal(other.validation.features, inputs.validation.features)

    lines = fit_in_process(ALGORITHM, fit, tmp_path, [training], {**QUIET, "num_boost_round": "5", "seed": "3"})
    assert len(logged(round_lines(lines), "validation:binary_logloss")) == 5


def test_categorical_index_makes_categorical_splits(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 10, size=600)
    noise = rng.normal(size=600)
    labels = np.isin(codes, [1, 4, 7]).astype(float)
    # Column 1 of the CSV (the first feature) holds the codes.
    body = csv_bytes(np.column_stack([codes, noise]), labels)
    training = jumpstart_channel(tmp_path, body, body, categorical='{"cat_index_list": [1]}')
    fit_in_process(ALGORITHM, fit, tmp_path, [training], {**QUIET, "num_boost_round": "5"})

    model = lightgbm.Booster(model_file=str(tmp_path / "model" / MODEL_FILE)).dump_model()
    decisions = {node["decision_type"] for tree in model["tree_info"] for node in _splits(tree["tree_structure"])
                 if node["split_feature"] == 0}
    assert decisions == {"=="}
    response, _ = serve.load(tmp_path / "model").invoke(b"4,0.3\n5,0.3\n", CSV, "application/json;verbose")
    assert json.loads(response)["predicted_label"] == [1, 0]


def _splits(node: dict) -> list[dict]:
    if "split_feature" not in node:
        return []
    return [node, *_splits(node["left_child"]), *_splits(node["right_child"])]


def test_task_detection() -> None:
    assert task_of(np.array([0.0, 1, 1, 0]), "auto") == ("binary", 2)
    assert task_of(np.array([0.0, 1, 2, 2]), "auto") == ("multiclass", 3)
    assert task_of(np.array([25.0, 151, 75]), "auto") == ("regression", 0)
    assert task_of(np.array([0.5, 1, 0]), "auto") == ("regression", 0)
    assert task_of(np.array([0.0, 2, 2]), "auto") == ("regression", 0)
    assert task_of(np.array([0.0, 2, 2]), "multiclass") == ("multiclass", 3)
    assert task_of(np.array([0.0, 1, 2]), "regression") == ("regression", 0)
    assert task_of(np.array([0.2, 0.9]), "cross_entropy") == ("binary", 2)


def test_goss_boosting_samples_rows_without_bagging(tmp_path: Path) -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    train = channel_at(tmp_path, "train", {"data.csv": csv_bytes(features, labels)}, CSV)
    fit_in_process(ALGORITHM, fit, tmp_path, [train], {**QUIET, "num_boost_round": "5", "boosting": "goss"})
    params = lightgbm.Booster(model_file=str(tmp_path / "model" / MODEL_FILE)).params
    assert params["data_sample_strategy"] == "goss" and params["bagging_freq"] == 0


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    ['{"cat_index_list": [0]}', '{"cat_index_list": [3]}', '{"cat_index_list": "1"}', '[1]', "{"],
)
def test_bad_categorical_index(tmp_path: Path, index: str) -> None:
    training = jumpstart_channel(tmp_path, b"0,1,2\n1,2,3\n0,1,2\n1,2,3\n0,1,1\n", categorical=index)
    with pytest.raises(AlgorithmError, match="categorical_index.json"):
        fit_in_process(ALGORITHM, fit, tmp_path, [training], QUIET)


@pytest.mark.parametrize(
    ("train", "validation", "hyperparameters", "reason"),
    [
        (b"1.5,1\n2.5,2\n", b"1.5,1\n", {"metric": "auc"}, "Metric auc does not apply to regression"),
        (b"0,1\n1,2\n", b"0,1\n", {"is_unbalance": "True", "scale_pos_weight": "2"}, "is_unbalance cannot be used"),
        (b"0,1\n1,2\n2,3\n", b"3,1\n", {}, "label 3, which is not one of the 3 training classes"),
        (b"0,1\n1,2\n", b"0.5,1\n", {}, "label 0.5, which is not one of the 2 training classes"),
        (b"0,1\n1,2\n2,3\n", b"1,1\n", {"objective": "binary"}, "Objective binary needs labels 0 or 1"),
        (b"0,1\n1,2\n", b"0,1,2\n", {}, "validation channel has 2 feature column"),
        (b"0,1\n1,x\n", b"0,1\n", {}, "non-numeric value 'x'"),
        (b",1\n1,2\n", b"0,1\n", {}, "train data has a missing or non-finite label"),
    ],
)
def test_bad_data_and_settings_are_client_errors(
    tmp_path: Path, train: bytes, validation: bytes, hyperparameters: dict[str, str], reason: str
) -> None:
    channels = [
        channel_at(tmp_path, "train", {"data.csv": train}, CSV),
        channel_at(tmp_path, "validation", {"data.csv": validation}, CSV),
    ]
    with pytest.raises(AlgorithmError, match=reason):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, {**QUIET, **hyperparameters})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"learning_rate": "0"}, "learning_rate: must be > 0"),
        ({"num_leaves": "1"}, "num_leaves: must be >= 2"),
        ({"metric": "mape"}, "metric: must be one of"),
        ({"boosting": "xgb"}, "boosting: must be one of"),
        ({"eta": "0.1"}, "Unknown hyperparameter"),
    ],
)
def test_invalid_hyperparameters(raw: dict[str, str], reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        ALGORITHM.parse_hyperparameters(raw)


# -- inference -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def regressor(tmp_path_factory: pytest.TempPathFactory) -> tuple[serve.LightGBMPredictor, np.ndarray]:
    root = tmp_path_factory.mktemp("regressor")
    features, labels = load_diabetes(return_X_y=True)
    train = channel_at(root, "train", {"data.csv": csv_bytes(features, labels)}, CSV)
    fit_in_process(ALGORITHM, fit, root, [train], {**QUIET, "num_boost_round": "5"})
    return serve.load(root / "model"), features[:3]


def test_regression_answers_in_every_accept_type(regressor: tuple[serve.LightGBMPredictor, np.ndarray]) -> None:
    predictor, features = regressor
    body = csv_bytes(features)
    expected = predictor.booster.predict(predictor.decode(body, CSV))
    answer, _ = predictor.invoke(body, CSV, "application/json;verbose")
    assert json.loads(answer) == {"prediction": pytest.approx(expected.tolist())}
    lines, content_type = predictor.invoke(body, CSV, "application/jsonlines")
    assert content_type == "application/jsonlines"
    assert [json.loads(line)["prediction"] for line in lines.decode().splitlines()] == pytest.approx(expected)
    text, _ = predictor.invoke(body, CSV, "text/csv")
    assert [float(line) for line in text.decode().splitlines()] == pytest.approx(expected)
    instances = json.dumps({"instances": [{"features": row} for row in features.tolist()]}).encode()
    from_json, _ = predictor.invoke(instances, "application/json", None)
    assert json.loads(from_json)["prediction"] == pytest.approx(expected)


def test_bad_requests(regressor: tuple[serve.LightGBMPredictor, np.ndarray]) -> None:
    predictor, features = regressor
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"0 1:2\n", "text/libsvm", None)
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(csv_bytes(features), CSV, "application/x-recordio-protobuf")
    with pytest.raises(BadRequest, match="10 features; got 2"):
        predictor.invoke(b"1,2\n", CSV, None)
    with pytest.raises(BadRequest, match="only numbers"):
        predictor.invoke(b"1,a\n", CSV, None)
