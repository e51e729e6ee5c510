"""Linear Learner: the quality bar against scikit-learn, losses, selection, training, inference."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from shipyard.algorithms import recordio
from shipyard.algorithms.container import Channel
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.linear_learner import ALGORITHM, serve
from shipyard.algorithms.linear_learner.losses import (
    LOSSES,
    LOSSES_BY_PREDICTOR,
    make_loss,
)
from shipyard.algorithms.linear_learner.metrics import (
    Criterion,
    best_threshold,
    evaluate,
)
from shipyard.algorithms.linear_learner.model import LinearModel
from shipyard.algorithms.linear_learner.train import checked_hyperparameters, fit
from shipyard.algorithms.linear_learner.trainer import train
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    logged_metrics,
    recordio_bytes,
)

RECORDIO = "application/x-recordio-protobuf"
#: Small mini-batches and enough epochs for datasets of a few hundred rows.
SMALL_DATA = {"mini_batch_size": "32", "epochs": "40"}


def hyperparameters(predictor_type: str, **raw: str) -> dict:
    return ALGORITHM.parse_hyperparameters({"predictor_type": predictor_type, **SMALL_DATA, **raw})


def cross_validated(loader, predictor_type: str, reference, **raw: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, and the out-of-fold predictions of Linear Learner and of the scikit-learn reference (5 folds)."""
    features, labels = loader(return_X_y=True)
    features, labels = features.astype(np.float32), labels.astype(np.float64)
    splitter = KFold if predictor_type == "regressor" else StratifiedKFold
    ours, theirs = np.zeros_like(labels), np.zeros_like(labels)
    for train_rows, test_rows in splitter(5, shuffle=True, random_state=0).split(features, labels):
        model = train(features[train_rows], labels[train_rows], hyperparameters(predictor_type, **raw)).model
        scores = model.scores(features[test_rows])
        ours[test_rows] = scores if predictor_type == "regressor" else model.labels(scores)
        pipeline = make_pipeline(StandardScaler(), reference).fit(features[train_rows], labels[train_rows])
        theirs[test_rows] = pipeline.predict(features[test_rows])
    return labels, ours, theirs


# -- quality ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "predictor_type", "raw"),
    [
        (load_iris, "multiclass_classifier", {"num_classes": "3"}),
        (load_wine, "multiclass_classifier", {"num_classes": "3"}),
        (load_breast_cancer, "binary_classifier", {}),
    ],
    ids=["iris", "wine", "breast_cancer"],
)
def test_accuracy_is_within_one_point_of_logistic_regression(loader, predictor_type: str, raw: dict) -> None:
    labels, ours, theirs = cross_validated(loader, predictor_type, LogisticRegression(max_iter=5000), **raw)
    accuracy, reference = np.mean(ours == labels), np.mean(theirs == labels)
    assert accuracy >= reference - 0.01, (accuracy, reference)


def test_rmse_is_within_2_percent_of_ridge() -> None:
    labels, ours, theirs = cross_validated(load_diabetes, "regressor", Ridge())
    rmse, reference = np.sqrt(np.mean((ours - labels) ** 2)), np.sqrt(np.mean((theirs - labels) ** 2))
    assert rmse <= 1.02 * reference, (rmse, reference)


def test_sparse_features_train_the_same_model_as_dense() -> None:
    features, labels = load_breast_cancer(return_X_y=True)
    features = features.astype(np.float32)
    features[features < np.median(features, axis=0)] = 0
    hp = hyperparameters("binary_classifier", epochs="5")
    dense = train(features, labels, hp).model
    sparse = train(sp.csr_matrix(features), labels, hp).model
    np.testing.assert_allclose(sparse.weights, dense.weights, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sparse.scores(sp.csr_matrix(features)), dense.scores(features), atol=1e-6)


@pytest.mark.parametrize("quantile", [0.1, 0.9])
def test_quantile_loss_predicts_the_quantile(quantile: float) -> None:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2000, 3)).astype(np.float32)
    labels = features @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=2000)
    model = train(features, labels, hyperparameters("regressor", loss="quantile_loss", quantile=str(quantile))).model
    below = np.mean(labels < model.scores(features))
    assert below == pytest.approx(quantile, abs=0.03)


def test_balanced_positive_weight_raises_recall_on_rare_positives() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(1500, 2)).astype(np.float32)
    labels = (features[:, 0] + rng.normal(scale=1.5, size=1500) > 2.2).astype(np.float64)
    raw = {"binary_classifier_model_selection_criteria": "loss_function"}
    plain = evaluate(train(features, labels, hyperparameters("binary_classifier", **raw)).model, features, labels)
    balanced_model = train(
        features, labels, hyperparameters("binary_classifier", positive_example_weight_mult="balanced", **raw)
    ).model
    assert evaluate(balanced_model, features, labels)["recall"] > plain["recall"] + 0.2


def test_early_stopping_ends_training_when_the_loss_stops_improving() -> None:
    features, labels = load_diabetes(return_X_y=True)
    result = train(features, labels, hyperparameters("regressor", epochs="200", early_stopping_patience="2"))
    assert result.epochs < 200
    assert result.best_epoch <= result.epochs


def test_each_epoch_reports_the_training_loss_in_label_units() -> None:
    features, labels = load_diabetes(return_X_y=True)
    reports: list[tuple[int, float]] = []
    result = train(
        features,
        labels,
        hyperparameters("regressor", epochs="3", early_stopping_patience="5"),
        report=lambda *report: reports.append(report),
    )
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    # Squared loss in the label's units: of the order of the final model's MSE, not of a standardised label.
    assert reports[-1][1] == pytest.approx(result.model.objective_loss(features, labels), rel=0.5)


# -- losses and calibration -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_gradients_match_finite_differences(name: str) -> None:
    rng = np.random.default_rng(2)
    width = 4 if name == "softmax_loss" else 1
    outputs = rng.normal(size=(6, 2, width))
    labels = rng.integers(0, width, size=6).astype(np.float64) if width > 1 else rng.integers(0, 2, size=6) * 1.0
    if name in LOSSES_BY_PREDICTOR["regressor"]:
        labels = rng.normal(size=6)
    loss = make_loss(name, {"margin": 1.0, "loss_insensitivity": 0.1, "quantile": 0.3, "huber_delta": 0.5})
    values, gradient = loss(outputs, labels)
    assert values.shape == (6, 2) and gradient.shape == outputs.shape
    step = 1e-6
    for index in np.ndindex(outputs.shape):
        shifted = outputs.copy()
        shifted[index] += step
        numeric = (loss(shifted, labels)[0][index[:2]] - values[index[:2]]) / step
        assert gradient[index] == pytest.approx(numeric, abs=1e-4)


@pytest.mark.parametrize("name", sorted(LOSSES_BY_PREDICTOR["regressor"]))
def test_rescaled_regression_losses_keep_the_users_units(name: str) -> None:
    rng = np.random.default_rng(3)
    outputs, labels = rng.normal(size=(50, 1, 1)) * 3, rng.normal(size=50) * 3
    loss = make_loss(name, {"margin": 1.0, "loss_insensitivity": 0.5, "quantile": 0.3, "huber_delta": 2.0})
    scale = 4.0
    standardised = loss.rescaled(scale)(outputs / scale, labels / scale)[0]
    np.testing.assert_allclose(standardised * scale**loss.power, loss(outputs, labels)[0], rtol=1e-12)


def test_threshold_calibration_for_each_criterion() -> None:
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05])
    labels = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 0])
    threshold, accuracy = best_threshold(scores, labels, Criterion("accuracy"), default=0.5)
    assert (threshold, accuracy) == (0.5, 0.8)
    # Recall 1.0 needs the positive at 0.3; precision is then 5/7.
    threshold, precision = best_threshold(scores, labels, Criterion("precision_at_target_recall", target_recall=1.0), 0.5)
    assert threshold == pytest.approx(0.25) and precision == pytest.approx(5 / 7)
    threshold, recall = best_threshold(scores, labels, Criterion("recall_at_target_precision", target_precision=1.0), 0.5)
    assert threshold == pytest.approx(0.85) and recall == pytest.approx(2 / 5)
    # F1 peaks with the top 7 positive: 5 true positives, 2 false ones, none missed.
    threshold, f_beta = best_threshold(scores, labels, Criterion("f_beta", beta=1.0), 0.5)
    assert threshold == pytest.approx(0.25) and f_beta == pytest.approx(2 * 5 / (2 * 5 + 2))


def test_binary_metrics_use_the_calibrated_threshold() -> None:
    model = LinearModel("binary_classifier", make_loss("logistic", {}), np.array([[1.0]]), np.array([0.0]), 0.7)
    features = np.array([[-2.0], [0.5], [1.0], [3.0]])
    labels = np.array([0.0, 0.0, 1.0, 1.0])
    # sigmoid(0.5) = 0.62 is below the threshold 0.7, sigmoid(1) = 0.73 above.
    assert model.labels(model.scores(features)).tolist() == [0, 0, 1, 1]
    metrics = evaluate(model, features, labels)
    assert metrics["binary_classification_accuracy"] == 1.0 and metrics["roc_auc_score"] == 1.0


def test_multiclass_metrics() -> None:
    scores = np.log(np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1], [0.1, 0.3, 0.6]]))
    model = LinearModel("multiclass_classifier", make_loss("softmax_loss", {}), np.eye(3), np.zeros(3))
    metrics = evaluate(model, scores, np.array([0.0, 2.0, 1.0, 2.0]), top_k=2)
    assert metrics["multiclass_accuracy"] == 0.5
    assert metrics["multiclass_top_k_accuracy"] == 1.0
    # True-class ranks 1, 2, 2, 1.
    assert metrics["dcg"] == pytest.approx((1 + 1 / np.log2(3) + 1 / np.log2(3) + 1) / 4)
    assert metrics["objective_loss"] == pytest.approx(-np.mean(np.log([0.7, 0.3, 0.3, 0.6])))


# -- hyperparameters ----------------------------------------------------------------------


def test_declared_defaults_are_sagemakers() -> None:
    values = ALGORITHM.parse_hyperparameters({"predictor_type": "binary_classifier"})
    assert values["epochs"] == 15 and values["mini_batch_size"] == 1000
    assert values["learning_rate"] == "auto" and values["optimizer"] == "auto" and values["loss"] == "auto"
    assert values["binary_classifier_model_selection_criteria"] == "accuracy"
    assert values["early_stopping_patience"] == 3 and values["early_stopping_tolerance"] == 0.001
    assert values["normalize_data"] is True and values["normalize_label"] == "auto" and values["use_bias"] is True
    assert values["init_scale"] == 0.07 and values["target_recall"] == 0.8 and values["num_point_for_scaler"] == 10000


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({}, "Missing required hyperparameter.*predictor_type"),
        ({"predictor_type": "ranker"}, "predictor_type: must be one of"),
        ({"predictor_type": "multiclass_classifier", "num_classes": "2"}, "num_classes: must be >= 3"),
        ({"predictor_type": "regressor", "learning_rate": "0"}, "learning_rate: must be > 0"),
        ({"predictor_type": "regressor", "optimizer": "lbfgs"}, "optimizer: must be one of"),
        ({"predictor_type": "regressor", "loss": "cosine"}, "loss: must be one of"),
        ({"predictor_type": "regressor", "normalize_data": "maybe"}, "normalize_data: must be true or false"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"predictor_type": "multiclass_classifier"}, "num_classes"),
        ({"predictor_type": "binary_classifier", "loss": "squared_loss"}, "loss 'squared_loss' does not apply"),
        ({"predictor_type": "regressor", "loss": "logistic"}, "loss 'logistic' does not apply"),
        ({"predictor_type": "binary_classifier", "positive_example_weight_mult": "-1"}, "positive_example_weight_mult"),
        ({"predictor_type": "binary_classifier", "positive_example_weight_mult": "lots"}, "positive_example_weight_mult"),
    ],
)
def test_inconsistent_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        checked_hyperparameters(ALGORITHM.parse_hyperparameters(raw))


# -- training in a job's tree ---------------------------------------------------------------


def run_fit(root: Path, channels: list[Channel], **raw: str) -> dict[str, float]:
    """Run ``fit`` in-process as the container would; the metrics it logged (last value of each)."""
    lines = fit_in_process(ALGORITHM, fit, root, channels, {**SMALL_DATA, **raw})
    return logged_metrics(ALGORITHM, lines)


CANCER_FEATURES, CANCER_LABELS = load_breast_cancer(return_X_y=True)
IRIS_FEATURES, IRIS_LABELS = load_iris(return_X_y=True)
DIABETES_FEATURES, DIABETES_LABELS = load_diabetes(return_X_y=True)


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    """Breast cancer from CSV: train on even rows, validate on rows 1 mod 4, test on rows 3 mod 4."""
    root = tmp_path_factory.mktemp("binary")
    channels = [
        channel_at(root, "train", {"part-0": csv_bytes(CANCER_FEATURES[::2], CANCER_LABELS[::2])}, "text/csv"),
        channel_at(root, "validation", {"part-0": csv_bytes(CANCER_FEATURES[1::4], CANCER_LABELS[1::4])}, "text/csv"),
        channel_at(root, "test", {"part-0": csv_bytes(CANCER_FEATURES[3::4], CANCER_LABELS[3::4])}, "text/csv"),
    ]
    return root / "model", run_fit(root, channels, predictor_type="binary_classifier")


def test_binary_fit_logs_sagemakers_metrics(binary_model: tuple[Path, dict[str, float]]) -> None:
    model_dir, metrics = binary_model
    names = ("binary_classification_accuracy", "binary_f_beta", "precision", "recall", "roc_auc_score", "objective_loss")
    assert {f"{channel}:{name}" for channel in ("validation", "test") for name in names} | {
        "train:objective_loss"
    } == set(metrics)
    assert metrics["test:binary_classification_accuracy"] > 0.93
    assert metrics["test:roc_auc_score"] > 0.97
    model = LinearModel.load(model_dir)
    expected = evaluate(model, CANCER_FEATURES[3::4], CANCER_LABELS[3::4])
    assert metrics["test:binary_f_beta"] == pytest.approx(expected["binary_f_beta"])
    assert metrics["test:objective_loss"] == pytest.approx(expected["objective_loss"], rel=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_recordio_regression_logs_rmse(tmp_path: Path, sparse: bool) -> None:
    features = sp.csr_matrix(DIABETES_FEATURES) if sparse else DIABETES_FEATURES
    channels = [
        channel_at(tmp_path, "train", {"part-0": recordio_bytes(features[:350], DIABETES_LABELS[:350])}, RECORDIO),
        channel_at(tmp_path, "test", {"part-0": recordio_bytes(features[350:], DIABETES_LABELS[350:])}, RECORDIO),
    ]
    metrics = run_fit(tmp_path, channels, predictor_type="regressor", feature_dim="10")
    assert {"test:rmse", "test:mse", "test:absolute_loss", "test:objective_loss", "train:objective_loss"} == set(metrics)
    assert metrics["test:rmse"] == pytest.approx(np.sqrt(metrics["test:mse"]), rel=1e-6)
    assert metrics["test:objective_loss"] == pytest.approx(metrics["test:mse"], rel=1e-5)
    assert metrics["test:rmse"] < 0.8 * DIABETES_LABELS[350:].std()


def test_multiclass_fit_logs_sagemakers_metrics(tmp_path: Path) -> None:
    channels = [
        channel_at(tmp_path, "train", {"part-0": recordio_bytes(IRIS_FEATURES[::2], IRIS_LABELS[::2])}, RECORDIO),
        channel_at(tmp_path, "test", {"part-0": recordio_bytes(IRIS_FEATURES[1::2], IRIS_LABELS[1::2])}, RECORDIO),
    ]
    metrics = run_fit(tmp_path, channels, predictor_type="multiclass_classifier", num_classes="3", accuracy_top_k="2")
    names = ("multiclass_accuracy", "multiclass_top_k_accuracy", "macro_f_beta", "macro_precision", "macro_recall", "dcg")
    assert {f"test:{name}" for name in names} <= set(metrics)
    assert metrics["test:multiclass_accuracy"] > 0.9
    assert metrics["test:multiclass_top_k_accuracy"] >= metrics["test:multiclass_accuracy"]


@pytest.mark.parametrize(
    ("channel", "raw", "message"),
    [
        (("train", csv_bytes(IRIS_FEATURES, IRIS_LABELS), "text/csv"), {}, "label 2; a binary_classifier needs labels 0 and 1"),
        (
            ("train", csv_bytes(IRIS_FEATURES, IRIS_LABELS), "text/csv"),
            {"predictor_type": "multiclass_classifier", "num_classes": "3", "feature_dim": "5"},
            "4 feature column.*feature_dim is 5",
        ),
        (
            ("train", csv_bytes(IRIS_FEATURES, IRIS_LABELS + 1), "text/csv"),
            {"predictor_type": "multiclass_classifier", "num_classes": "3"},
            "label 3; with num_classes=3 the labels must be integers 0 to 2",
        ),
        (("train", b"1,2,3\n0,x,1\n", "text/csv"), {}, "non-numeric value 'x'"),
        (("train", recordio_bytes(IRIS_FEATURES), RECORDIO), {}, "no labels"),
        (
            ("validation", csv_bytes(IRIS_FEATURES[:, :3], IRIS_LABELS), "text/csv"),
            {"predictor_type": "multiclass_classifier", "num_classes": "3"},
            "validation channel has 3 feature column.*feature_dim is 4",
        ),
    ],
    ids=["binary-labels", "wrong-width", "class-out-of-range", "non-numeric", "unlabelled", "validation-width"],
)
def test_bad_training_data_is_a_client_error(tmp_path: Path, channel: tuple, raw: dict, message: str) -> None:
    name, body, content_type = channel
    channels = [channel_at(tmp_path, name, {"part-0": body}, content_type)]
    if name != "train":
        channels.append(channel_at(tmp_path, "train", {"part-0": csv_bytes(IRIS_FEATURES, IRIS_LABELS)}, "text/csv"))
    with pytest.raises(AlgorithmError, match=message):
        run_fit(tmp_path, channels, **{"predictor_type": "binary_classifier", **raw})


# -- inference ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_predictor(binary_model: tuple[Path, dict[str, float]]) -> serve.LinearLearnerPredictor:
    return serve.load(binary_model[0])


def test_binary_json_response(binary_predictor: serve.LinearLearnerPredictor) -> None:
    rows = CANCER_FEATURES[3::4][:6]
    body, content_type = binary_predictor.invoke(csv_bytes(rows), "text/csv", None)
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    assert all(set(row) == {"score", "predicted_label"} for row in predictions)
    model = binary_predictor.model
    np.testing.assert_allclose([row["score"] for row in predictions], model.scores(rows), rtol=1e-6)
    assert [row["predicted_label"] for row in predictions] == [int(s >= model.threshold) for s in model.scores(rows)]


def test_binary_json_request_jsonlines_and_csv_responses(binary_predictor: serve.LinearLearnerPredictor) -> None:
    rows = CANCER_FEATURES[:5]
    request = json.dumps({"instances": [{"features": row.tolist()} for row in rows]}).encode()
    body, content_type = binary_predictor.invoke(request, "application/json", "application/jsonlines")
    assert content_type == "application/jsonlines"
    lines = [json.loads(line) for line in body.decode().splitlines()]
    body, content_type = binary_predictor.invoke(request, "application/json", "text/csv")
    assert content_type == "text/csv"
    assert body.decode().splitlines() == [str(line["predicted_label"]) for line in lines]


def test_binary_recordio_request_and_response(binary_predictor: serve.LinearLearnerPredictor) -> None:
    rows = CANCER_FEATURES[:4]
    body, content_type = binary_predictor.invoke(recordio_bytes(rows), RECORDIO, RECORDIO)
    assert content_type == RECORDIO
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(body))]
    assert [sorted(record.label) for record in records] == [["predicted_label", "score"]] * 4
    scores = [float(record.label["score"].values[0]) for record in records]
    np.testing.assert_allclose(scores, binary_predictor.model.scores(rows), rtol=1e-6)


def test_multiclass_and_regression_rows(tmp_path: Path) -> None:
    multiclass = LinearModel("multiclass_classifier", make_loss("softmax_loss", {}), np.eye(3), np.zeros(3))
    multiclass.save(tmp_path / "multiclass")
    predictor = serve.load(tmp_path / "multiclass")
    body, _ = predictor.invoke(b"0,2,1\n", "text/csv", "application/jsonlines")
    (row,) = [json.loads(line) for line in body.decode().splitlines()]
    assert row["predicted_label"] == 1 and len(row["score"]) == 3 and sum(row["score"]) == pytest.approx(1.0)
    assert predictor.invoke(b"0,2,1\n5,0,0\n", "text/csv", "text/csv")[0] == b"1\n0\n"

    regressor = LinearModel("regressor", make_loss("squared_loss", {}), np.array([[2.0], [1.0]]), np.array([0.5]))
    regressor.save(tmp_path / "regressor")
    predictor = serve.load(tmp_path / "regressor")
    assert json.loads(predictor.invoke(b"1,1\n", "text/csv", None)[0]) == {"predictions": [{"score": 3.5}]}
    assert predictor.invoke(b"1,1\n0,0\n", "text/csv", "text/csv")[0] == b"3.5\n0.5\n"
    sparse = json.dumps({"instances": [{"data": {"features": {"keys": [1], "shape": [2], "values": [4.0]}}}]})
    assert json.loads(predictor.invoke(sparse.encode(), "application/json", None)[0])["predictions"] == [{"score": 4.5}]


def test_bad_requests(binary_predictor: serve.LinearLearnerPredictor) -> None:
    with pytest.raises(UnsupportedContentType):
        binary_predictor.invoke(b"1,2\n", "application/x-parquet", None)
    with pytest.raises(UnsupportedAccept):
        binary_predictor.invoke(csv_bytes(CANCER_FEATURES[:1]), "text/csv", "image/png")
    with pytest.raises(BadRequest, match="30 features; got 2"):
        binary_predictor.invoke(b"1,2\n", "text/csv", None)
