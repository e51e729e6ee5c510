"""XGBoost: identical to ``xgboost.train``, SageMaker's metric lines, checks, inference formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import xgboost
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.metrics import accuracy_score, f1_score, mean_squared_error, r2_score

from shipyard.algorithms import recordio
from shipyard.algorithms.container import Channel
from shipyard.algorithms.data import read_channel
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.xgboost import ALGORITHM, serve
from shipyard.algorithms.xgboost.train import MODEL_FILE, booster_params, fit
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    libsvm_bytes,
    logged_metrics,
    recordio_bytes,
)

CSV = "text/csv"
LIBSVM = "text/libsvm"


def matrix(channel: Channel, **kwargs: object) -> xgboost.DMatrix:
    """The channel's rows as the reference run sees them: read by the same reader."""
    data = read_channel(channel.name, channel.path, channel.content_type, allow_missing=True)
    return xgboost.DMatrix(data.features, label=data.labels, **kwargs)


def round_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"\[\d+\]#011", line)]


def split(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, ...]:
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = len(labels) * 3 // 4
    train, validation = order[:cut], order[cut:]
    return features[train], labels[train], features[validation], labels[validation]


# -- quality: the same model as xgboost.train ----------------------------------------------


def test_binary_classifier_is_identical_to_xgboost_train(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_breast_cancer(return_X_y=True))
    train = channel_at(tmp_path, "train", {"part-0": csv_bytes(x_train, y_train)}, CSV)
    validation = channel_at(tmp_path, "validation", {"part-0": csv_bytes(x_val, y_val)}, CSV)
    hyperparameters = {
        "num_round": "25", "objective": "binary:logistic", "eta": "0.2", "max_depth": "4", "subsample": "0.8",
        "colsample_bytree": "0.7", "seed": "11", "eval_metric": "auc,logloss,accuracy,f1",
    }
    lines = round_lines(fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], hyperparameters))

    dtrain, dval = matrix(train), matrix(validation)
    params = {"objective": "binary:logistic", "eta": 0.2, "max_depth": 4, "subsample": 0.8, "colsample_bytree": 0.7,
              "seed": 11, "nthread": 1, "eval_metric": ["auc", "logloss"]}
    history: dict = {}
    reference = xgboost.train(params, dtrain, 25, evals=[(dtrain, "train"), (dval, "validation")],
                              evals_result=history, verbose_eval=False)
    predictor = serve.load(tmp_path / "model", {})
    response, content_type = predictor.invoke(csv_bytes(x_val), CSV, "application/json")
    assert content_type == "application/json"
    assert np.array_equal(np.array(json.loads(response), dtype=np.float32), reference.predict(dval))

    assert len(lines) == 25
    metrics = logged_metrics(ALGORITHM, lines)
    assert metrics["validation:auc"] == pytest.approx(history["validation"]["auc"][-1], abs=1e-5)
    assert metrics["train:logloss"] == pytest.approx(history["train"]["logloss"][-1], abs=1e-5)
    predicted = (reference.predict(dval) > 0.5).astype(int)
    assert metrics["validation:accuracy"] == pytest.approx(accuracy_score(y_val, predicted), abs=1e-5)
    assert metrics["validation:f1"] == pytest.approx(f1_score(y_val, predicted), abs=1e-5)
    assert metrics["validation:accuracy"] > 0.9


def test_regressor_from_libsvm_is_identical_to_xgboost_train(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_diabetes(return_X_y=True))
    train = channel_at(tmp_path, "train", {"part-0": libsvm_bytes(x_train, y_train)}, LIBSVM)
    validation = channel_at(tmp_path, "validation", {"part-0": libsvm_bytes(x_val, y_val)}, LIBSVM)
    hyperparameters = {"num_round": "30", "max_depth": "3", "eta": "0.1", "eval_metric": "rmse,mae,mse,r2"}
    metrics = logged_metrics(ALGORITHM, fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], hyperparameters))

    dtrain = matrix(train)
    dval = matrix(validation)
    reference = xgboost.train({"objective": "reg:squarederror", "max_depth": 3, "eta": 0.1, "nthread": 1}, dtrain, 30)
    predictor = serve.load(tmp_path / "model", {"SAGEMAKER_BATCH": "true"})
    response, _ = predictor.invoke(libsvm_bytes(x_val, y_val), LIBSVM, CSV)
    predictions = np.array(response.decode().splitlines(), dtype=np.float32)
    assert np.array_equal(predictions, reference.predict(dval))

    expected = reference.predict(dval)
    assert metrics["validation:mse"] == pytest.approx(mean_squared_error(y_val, expected), rel=1e-5)
    assert metrics["validation:r2"] == pytest.approx(r2_score(y_val, expected), abs=1e-5)
    assert metrics["validation:rmse"] == pytest.approx(np.sqrt(mean_squared_error(y_val, expected)), rel=1e-4)
    assert 0.2 < metrics["validation:r2"] < 1


def test_multiclass_softprob_is_identical_and_serves_class_probabilities(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_iris(return_X_y=True))
    body = recordio_bytes(x_train.astype(np.float32), y_train.astype(np.float32))
    train = channel_at(tmp_path, "train", {"part-0": body}, "application/x-recordio-protobuf")
    hyperparameters = {"num_round": "10", "objective": "multi:softprob", "num_class": "3", "max_depth": "2"}
    fit_in_process(ALGORITHM, fit, tmp_path, [train], hyperparameters)

    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 2, "nthread": 1}
    reference = xgboost.train(params, matrix(train), 10)
    predictor = serve.load(tmp_path / "model", {})
    response, _ = predictor.invoke(csv_bytes(x_val), CSV, "application/jsonlines")
    rows = np.array([json.loads(line) for line in response.decode().splitlines()], dtype=np.float32)
    assert rows.shape == (len(y_val), 3)
    assert np.array_equal(rows, reference.predict(xgboost.DMatrix(x_val.astype(np.float32))))
    assert accuracy_score(y_val, rows.argmax(axis=1)) > 0.9


def test_early_stopping_serves_the_best_iteration(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(300, 5))
    labels = features[:, 0] + rng.normal(scale=2.0, size=300)
    x_train, y_train, x_val, y_val = split(features, labels)
    train = channel_at(tmp_path, "train", {"part-0": csv_bytes(x_train, y_train)}, CSV)
    validation = channel_at(tmp_path, "validation", {"part-0": csv_bytes(x_val, y_val)}, CSV)
    hyperparameters = {"num_round": "200", "eta": "0.5", "early_stopping_rounds": "5"}
    lines = round_lines(fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], hyperparameters))

    dtrain, dval = matrix(train), matrix(validation)
    reference = xgboost.train({"objective": "reg:squarederror", "eta": 0.5, "nthread": 1}, dtrain, 200,
                              evals=[(dtrain, "train"), (dval, "validation")], early_stopping_rounds=5,
                              verbose_eval=False)
    assert reference.best_iteration < 100
    assert len(lines) == reference.num_boosted_rounds()
    best = reference.predict(dval, iteration_range=(0, reference.best_iteration + 1))
    response, _ = serve.load(tmp_path / "model", {}).invoke(csv_bytes(x_val), CSV, "application/json")
    assert np.array_equal(np.array(json.loads(response), dtype=np.float32), best)


def test_container_metric_decides_early_stopping_in_its_direction(tmp_path: Path) -> None:
    x_train, y_train, x_val, y_val = split(*load_breast_cancer(return_X_y=True))
    train = channel_at(tmp_path, "train", {"part-0": csv_bytes(x_train, y_train)}, CSV)
    validation = channel_at(tmp_path, "validation", {"part-0": csv_bytes(x_val, y_val)}, CSV)
    hyperparameters = {"num_round": "60", "objective": "binary:logistic", "eval_metric": "accuracy",
                       "early_stopping_rounds": "5", "eta": "0.3"}
    lines = round_lines(fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], hyperparameters))
    accuracies = [float(re.search(r"validation-accuracy:(\S+)", line).group(1)) for line in lines]
    best = int(np.argmax(accuracies))
    # Higher accuracy is better: training stops 5 rounds after the first best, which is kept.
    assert len(lines) == best + 6
    booster = xgboost.Booster(model_file=bytearray((tmp_path / "model" / MODEL_FILE).read_bytes()))
    assert int(booster.attr("best_iteration")) == best


def test_csv_weights_take_the_second_column(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    features = rng.normal(size=(200, 3))
    labels = (features[:, 0] > 0).astype(float)
    weights = rng.uniform(0.1, 3, size=200)
    train = channel_at(tmp_path, "train", {"part-0": csv_bytes(np.column_stack([weights, features]), labels)}, CSV)
    hyperparameters = {"num_round": "5", "objective": "binary:logistic", "csv_weights": "1"}
    fit_in_process(ALGORITHM, fit, tmp_path, [train], hyperparameters)

    dtrain = xgboost.DMatrix(features.astype(np.float32), label=labels, weight=weights.astype(np.float32))
    reference = xgboost.train({"objective": "binary:logistic", "nthread": 1}, dtrain, 5)
    unweighted = xgboost.train({"objective": "binary:logistic", "nthread": 1},
                               xgboost.DMatrix(features.astype(np.float32), label=labels), 5)
    served = serve.load(tmp_path / "model", {}).predict(features.astype(np.float32))
    predictions = np.array([row["score"] for row in served], dtype=np.float32)
    probe = xgboost.DMatrix(features.astype(np.float32))
    assert np.allclose(predictions, reference.predict(probe), atol=1e-6)
    assert not np.allclose(predictions, unweighted.predict(probe), atol=1e-6)


# -- hyperparameters ---------------------------------------------------------------------


def test_only_changed_and_undeclared_hyperparameters_reach_xgboost() -> None:
    values = ALGORITHM.parse_hyperparameters(
        {"num_round": "5", "eta": "0.3", "max_depth": "3", "min_split_loss": "0.5", "early_stopping_rounds": "3"}
    )
    assert booster_params(values, num_cpus=4) == {
        "objective": "reg:squarederror", "nthread": 4, "max_depth": 3, "min_split_loss": "0.5",
    }
    renamed = ALGORITHM.parse_hyperparameters({"num_round": "5", "objective": "reg:linear", "nthread": "2"})
    assert booster_params(renamed, num_cpus=4) == {"objective": "reg:squarederror", "nthread": 2}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({}, "Missing required hyperparameter.*num_round"),
        ({"num_round": "0"}, "num_round: must be >= 1"),
        ({"num_round": "5", "eta": "2"}, "eta: must be >= 0 and <= 1"),
        ({"num_round": "5", "objective": "multi:softmax"}, "num_class is required"),
        ({"num_round": "5", "objective": "binary:logistic", "num_class": "2"}, "num_class only applies"),
        ({"num_round": "5", "objective": "reg:cubic"}, "objective: must be one of"),
    ],
)
def test_invalid_hyperparameters_are_client_errors(raw: dict[str, str], reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        booster_params(ALGORITHM.parse_hyperparameters(raw), num_cpus=1)


@pytest.mark.parametrize(
    ("body", "hyperparameters", "reason"),
    [
        (b"3,1,2\n0,2,1\n", {"objective": "multi:softmax", "num_class": "3"}, r"label 3; labels must be integers in \[0, num_class\)"),
        (b"0.5,1,2\n1,2,1\n", {"objective": "multi:softprob", "num_class": "2"}, "label 0.5"),
        (b"2,1,2\n0,2,1\n", {"objective": "binary:logistic"}, r"label 2; binary:logistic needs labels in \[0, 1\]"),
        (b",1,2\n0,2,1\n", {}, "missing or non-finite label"),
        (b"1,1,2\n0,2,1\n", {"eval_metric": "accuracy"}, "accuracy.*needs a binary: or multi: objective"),
        (b"1,1,2\n0,2,1\n", {"eval_metric": "nonsense"}, "XGBoost rejected the job: Unknown metric function nonsense"),
        (b"1,1\n0,2\n", {"csv_weights": "1", "objective": "binary:logistic"}, "label, a weight and features"),
        (b"1,-1,2\n0,2,1\n", {"csv_weights": "1", "objective": "binary:logistic"}, "weights .* non-negative"),
    ],
)
def test_bad_labels_and_metrics_are_client_errors(
    tmp_path: Path, body: bytes, hyperparameters: dict[str, str], reason: str
) -> None:
    train = channel_at(tmp_path, "train", {"part-0": body}, CSV)
    with pytest.raises(AlgorithmError, match=reason):
        fit_in_process(ALGORITHM, fit, tmp_path, [train], {"num_round": "2", **hyperparameters})


def test_validation_must_have_the_training_width(tmp_path: Path) -> None:
    train = channel_at(tmp_path, "train", {"part-0": b"1,1,2\n0,2,1\n"}, CSV)
    validation = channel_at(tmp_path, "validation", {"part-0": b"1,1,2,3\n0,2,1,3\n"}, CSV)
    with pytest.raises(AlgorithmError, match="validation channel has 3 feature column.*train channel has 2"):
        fit_in_process(ALGORITHM, fit, tmp_path, [train, validation], {"num_round": "2"})


def test_csv_weights_need_csv(tmp_path: Path) -> None:
    train = channel_at(tmp_path, "train", {"part-0": b"1 0:1 1:2\n0 0:2\n"}, LIBSVM)
    with pytest.raises(AlgorithmError, match="csv_weights applies to text/csv"):
        fit_in_process(ALGORITHM, fit, tmp_path, [train], {"num_round": "2", "csv_weights": "1"})


def test_metric_regexes_match_the_cloudwatch_spelling_and_a_raw_tab() -> None:
    definition = next(item for item in ALGORITHM.metrics if item.name == "validation:rmse")
    for line in ("[7]#011train-rmse:0.25#011validation-rmse:0.5", "[7]\ttrain-rmse:0.25\tvalidation-rmse:0.5"):
        assert re.search(definition.regex, line).group(1) == "0.5"
    train = next(item for item in ALGORITHM.metrics if item.name == "train:rmse")
    assert re.search(train.regex, "[7]#011train-rmse:2.5e-05#011validation-rmse:0.5").group(1) == "2.5e-05"
    assert {item.name for item in ALGORITHM.metrics} >= {"validation:auc", "train:mlogloss", "validation:ndcg"}


# -- inference ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    root = tmp_path_factory.mktemp("binary")
    features, labels = load_breast_cancer(return_X_y=True)
    train = channel_at(root, "train", {"part-0": csv_bytes(features, labels)}, CSV)
    fit_in_process(ALGORITHM, fit, root, [train], {"num_round": "5", "objective": "binary:logistic", "max_depth": "2"})
    return root / "model", features[:4].astype(np.float32)


def expected(model_dir: Path, features: np.ndarray | sp.csr_matrix) -> list[float]:
    booster = xgboost.Booster(model_file=bytearray((model_dir / MODEL_FILE).read_bytes()))
    return booster.predict(xgboost.DMatrix(features)).tolist()


def test_csv_answers_as_sagemaker_does(binary_model: tuple[Path, np.ndarray]) -> None:
    model_dir, features = binary_model
    scores = expected(model_dir, features)
    endpoint, content_type = serve.load(model_dir, {}).invoke(csv_bytes(features), CSV, None)
    assert content_type == CSV
    assert endpoint.decode() == ",".join(str(score) for score in scores)
    batch, _ = serve.load(model_dir, {"SAGEMAKER_BATCH": "true"}).invoke(csv_bytes(features), CSV, "text/csv")
    assert batch.decode() == "".join(f"{score}\n" for score in scores)


def test_every_request_type_gives_the_same_scores(binary_model: tuple[Path, np.ndarray]) -> None:
    model_dir, features = binary_model
    predictor = serve.load(model_dir, {})
    scores = expected(model_dir, features)
    requests = {
        CSV: csv_bytes(features),
        LIBSVM: libsvm_bytes(features, np.zeros(len(features))),
        "application/x-recordio-protobuf": recordio_bytes(features),
        "application/json": json.dumps({"instances": [{"features": row} for row in features.tolist()]}).encode(),
        "application/jsonlines": "".join(json.dumps({"features": row}) + "\n" for row in features.tolist()).encode(),
    }
    for content_type, body in requests.items():
        response, _ = predictor.invoke(body, content_type, "application/json")
        assert json.loads(response) == pytest.approx(scores, rel=1e-6), content_type
    response, _ = predictor.invoke(csv_bytes(features), CSV, "application/x-recordio-protobuf")
    assert [row["score"][0] for row in recordio.decode_predictions(response)] == pytest.approx(scores, rel=1e-6)


def test_libsvm_requests_may_leave_trailing_features_out(binary_model: tuple[Path, np.ndarray]) -> None:
    model_dir, _ = binary_model
    # Left-out features are missing values, as in the libsvm training data.
    sparse = sp.csr_matrix(([5.0], ([0], [2])), shape=(1, 30), dtype=np.float32)
    response, _ = serve.load(model_dir, {}).invoke(b"2:5\n", LIBSVM, "application/json")
    assert json.loads(response) == pytest.approx(expected(model_dir, sparse), rel=1e-6)


def test_selectable_inference_output(binary_model: tuple[Path, np.ndarray]) -> None:
    model_dir, features = binary_model
    scores = expected(model_dir, features)
    predictor = serve.load(model_dir, {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_label, probabilities,predicted_score"})
    response, _ = predictor.invoke(csv_bytes(features), CSV, "application/json")
    rows = json.loads(response)["predictions"]
    assert [row["predicted_label"] for row in rows] == [int(score > 0.5) for score in scores]
    assert [row["probabilities"][1] for row in rows] == pytest.approx(scores)
    assert all(row["predicted_score"] is None for row in rows)
    text, _ = predictor.invoke(csv_bytes(features[:1]), CSV, "text/csv")
    assert text.decode() == f'{int(scores[0] > 0.5)},"[{1.0 - scores[0]}, {scores[0]}]",None'
    lines, _ = predictor.invoke(csv_bytes(features), CSV, "application/jsonlines")
    assert [json.loads(line) for line in lines.decode().splitlines()] == rows
    with pytest.raises(ValueError, match="unknown key"):
        serve.load(model_dir, {"SAGEMAKER_INFERENCE_OUTPUT": "predicted_labels"})


def test_bad_requests(binary_model: tuple[Path, np.ndarray]) -> None:
    model_dir, features = binary_model
    predictor = serve.load(model_dir, {})
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"x", "image/png", None)
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(csv_bytes(features), CSV, "application/xml")
    with pytest.raises(BadRequest, match="30 features; got 2"):
        predictor.invoke(b"1,2\n", CSV, None)
    with pytest.raises(BadRequest, match="libsvm"):
        predictor.invoke(b"1 a:b\n", LIBSVM, None)
    with pytest.raises(BadRequest, match="no records"):
        predictor.invoke(b"", CSV, None)
