"""PCA: explained variance against scikit-learn, both modes, training, inference."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA

from shipyard.algorithms import recordio
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.pca import ALGORITHM, model, serve
from shipyard.algorithms.pca.train import fit
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    recordio_bytes,
)

DATASETS = {
    "iris": (load_iris().data, 2),
    "wine": (load_wine().data, 5),
    "breast_cancer": (load_breast_cancer().data, 6),
    "digits": (load_digits().data, 10),
}


# -- quality ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_regular_mode_explained_variance_is_within_1e_6_of_scikit_learn(dataset: str) -> None:
    data, components = DATASETS[dataset]
    features = data.astype(np.float32)
    ours = model.fit(features, model.Settings(components, mini_batch_size=64))
    reference = PCA(components, svd_solver="full").fit(features.astype(np.float64))
    np.testing.assert_allclose(ours.explained_variance, reference.explained_variance_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.explained_variance_ratio, reference.explained_variance_ratio_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.singular_values, reference.singular_values_, rtol=1e-9)
    np.testing.assert_allclose(ours.mean, reference.mean_, rtol=1e-12)
    # The same axes, up to each one's sign: the projections agree in magnitude.
    projected = ours.project(features)
    np.testing.assert_allclose(np.abs(projected), np.abs(reference.transform(features.astype(np.float64))), atol=1e-6)


def test_randomized_mode_approximates_the_top_components() -> None:
    features = load_digits().data.astype(np.float32)
    exact = model.fit(features, model.Settings(10))
    approximate = model.fit(features, model.Settings(10, algorithm_mode="randomized"))
    np.testing.assert_allclose(approximate.explained_variance, exact.explained_variance, rtol=1e-3)
    assert np.all(np.abs(np.sum(approximate.components * exact.components, axis=1)) > 0.99)


def test_without_subtracting_the_mean_the_axes_are_the_raw_singular_vectors() -> None:
    features = load_iris().data
    ours = model.fit(features, model.Settings(2, subtract_mean=False))
    _, singular_values, axes = np.linalg.svd(features, full_matrices=False)
    assert not ours.mean.any()
    np.testing.assert_allclose(ours.singular_values, singular_values[:2], rtol=1e-9)
    np.testing.assert_allclose(np.abs(ours.components), np.abs(axes[:2]), atol=1e-9)


def test_components_come_largest_first_with_their_largest_coefficient_positive() -> None:
    ours = model.fit(load_wine().data, model.Settings(5))
    assert np.all(np.diff(ours.singular_values) <= 0)
    largest = ours.components[np.arange(5), np.abs(ours.components).argmax(axis=1)]
    assert np.all(largest > 0)


def test_sparse_training_data_gives_the_dense_result() -> None:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(300, 12)) * (rng.random((300, 12)) < 0.3)
    ours = model.fit(sp.csr_matrix(dense), model.Settings(4, mini_batch_size=50))
    reference = model.fit(dense, model.Settings(4))
    np.testing.assert_allclose(ours.components, reference.components, atol=1e-10)
    np.testing.assert_allclose(ours.singular_values, reference.singular_values, rtol=1e-10)


def test_save_and_load_keep_the_model(tmp_path: Path) -> None:
    fitted = model.fit(load_iris().data, model.Settings(3))
    fitted.save(tmp_path)
    loaded = model.PCAModel.load(tmp_path)
    np.testing.assert_array_equal(loaded.project(load_iris().data), fitted.project(load_iris().data))
    np.testing.assert_array_equal(loaded.explained_variance_ratio, fitted.explained_variance_ratio)


def test_more_components_than_features_is_a_client_error() -> None:
    with pytest.raises(AlgorithmError, match="num_components is 5, but the data has only 4 feature"):
        model.fit(load_iris().data, model.Settings(5))


# -- hyperparameters ----------------------------------------------------------------------


def test_hyperparameters_the_sagemaker_sdk_sends() -> None:
    raw = {
        "num_components": "3",
        "algorithm_mode": "randomized",
        "subtract_mean": "True",
        "extra_components": "5",
        "feature_dim": "8",
        "mini_batch_size": "500",
    }
    assert ALGORITHM.parse_hyperparameters(raw) == {
        "num_components": 3,
        "algorithm_mode": "randomized",
        "subtract_mean": True,
        "extra_components": 5,
        "feature_dim": 8,
        "mini_batch_size": 500,
    }


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"feature_dim": "4", "mini_batch_size": "10"}, "Missing required hyperparameter.*: num_components"),
        ({"feature_dim": "4", "num_components": "2"}, "Missing required hyperparameter.*: mini_batch_size"),
        ({"mini_batch_size": "10", "num_components": "2"}, "Missing required hyperparameter.*: feature_dim"),
        ({"feature_dim": "4", "mini_batch_size": "10", "num_components": "0"}, "num_components"),
        (
            {"feature_dim": "4", "mini_batch_size": "10", "num_components": "2", "algorithm_mode": "exact"},
            "algorithm_mode: must be one of regular, randomized",
        ),
        ({"feature_dim": "4", "mini_batch_size": "10", "num_components": "2", "extra_components": "-2"}, "extra_components"),
        ({"feature_dim": "4", "mini_batch_size": "10", "num_components": "2", "subtract_mean": "maybe"}, "subtract_mean"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


# -- training in a job's tree ---------------------------------------------------------------


IRIS = load_iris().data.astype(np.float32)
HYPERPARAMETERS = {"feature_dim": 4, "num_components": 2, "mini_batch_size": 40}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A model trained in-process on iris CSV (features only), with a CSV test channel."""
    root = tmp_path_factory.mktemp("pca")
    channels = [
        channel_at(root, "train", {"part-0": csv_bytes(IRIS)}, "text/csv"),
        channel_at(root, "test", {"part-0": csv_bytes(IRIS[:20])}, "text/csv"),
    ]
    return root / "model", fit_in_process(ALGORITHM, fit, root, channels, HYPERPARAMETERS)


def test_fit_logs_the_explained_variance(trained: tuple[Path, list[str]]) -> None:
    model_dir, lines = trained
    reference = PCA(2).fit(IRIS.astype(np.float64)).explained_variance_ratio_
    expected = ", ".join(f"{ratio:.6g}" for ratio in reference)
    assert any(f"explained variance ratio: [{expected}]" in line for line in lines), lines
    assert any(line.startswith("test: mean squared reconstruction error of 20 records") for line in lines)
    np.testing.assert_allclose(model.PCAModel.load(model_dir).explained_variance_ratio, reference, atol=1e-9)


def test_recordio_training_data(tmp_path: Path) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": recordio_bytes(IRIS)}, "application/x-recordio-protobuf")]
    fit_in_process(ALGORITHM, fit, tmp_path, channels, HYPERPARAMETERS)
    reference = PCA(2).fit(IRIS.astype(np.float64))
    loaded = model.PCAModel.load(tmp_path / "model")
    np.testing.assert_allclose(loaded.explained_variance, reference.explained_variance_, atol=1e-6)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (csv_bytes(IRIS[:, :3]), "text/csv", "3 feature column.*feature_dim is 4"),
        (b"1,2,3,4\n5,6,seven,8\n", "text/csv", "non-numeric value 'seven'"),
        (recordio_bytes(np.array([[1, 2, np.inf, 4]] * 3, np.float32)), "application/x-recordio-protobuf", "infinite"),
    ],
    ids=["wrong-width", "non-numeric", "infinite"],
)
def test_bad_training_data_is_a_client_error(tmp_path: Path, body: bytes, content_type: str, message: str) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": body}, content_type)]
    with pytest.raises(AlgorithmError, match=message):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, HYPERPARAMETERS)


# -- inference ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(trained: tuple[Path, list[str]]) -> serve.PCAPredictor:
    return serve.load(trained[0])


@pytest.fixture(scope="module")
def expected(predictor: serve.PCAPredictor) -> np.ndarray:
    """The first five iris records' coordinates along the components, by hand."""
    return (IRIS[:5].astype(np.float64) - predictor.model.mean) @ predictor.model.components.T


def test_csv_request_json_response(predictor: serve.PCAPredictor, expected: np.ndarray) -> None:
    body, content_type = predictor.invoke(csv_bytes(IRIS[:5]), "text/csv", None)
    assert content_type == "application/json"
    document = json.loads(body)
    assert list(document) == ["projections"] and all(list(row) == ["projection"] for row in document["projections"])
    np.testing.assert_allclose([row["projection"] for row in document["projections"]], expected, atol=1e-5)


def test_json_request_jsonlines_response(predictor: serve.PCAPredictor, expected: np.ndarray) -> None:
    request = json.dumps({"instances": [{"data": {"features": {"values": row.tolist()}}} for row in IRIS[:5]]})
    body, content_type = predictor.invoke(request.encode(), "application/json", "application/jsonlines")
    assert content_type == "application/jsonlines"
    rows = [json.loads(line)["projection"] for line in body.decode().splitlines()]
    np.testing.assert_allclose(rows, expected, atol=1e-5)


def test_recordio_request_and_response(predictor: serve.PCAPredictor, expected: np.ndarray) -> None:
    body, content_type = predictor.invoke(
        recordio_bytes(IRIS[:5]), "application/x-recordio-protobuf", "application/x-recordio-protobuf"
    )
    assert content_type == "application/x-recordio-protobuf"
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(body))]
    assert [list(record.label) for record in records] == [["projection"]] * 5
    np.testing.assert_allclose([record.label["projection"].values for record in records], expected, atol=1e-5)


def test_bad_requests(predictor: serve.PCAPredictor) -> None:
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(b"1,2,3,4\n", "text/csv", "text/csv")
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"1,2,3,4\n", "text/plain", None)
    with pytest.raises(BadRequest, match="4 features; got 5"):
        predictor.invoke(b"1,2,3,4,5\n", "text/csv", None)
