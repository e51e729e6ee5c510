"""k-NN: accuracy against scikit-learn, the indexes and reductions, training, inference."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from shipyard.algorithms import recordio
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.knn import ALGORITHM, index, model, serve
from shipyard.algorithms.knn.train import fit
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    logged_metrics,
    recordio_bytes,
)

DATASETS = {"iris": load_iris(), "wine": load_wine(), "breast_cancer": load_breast_cancer()}


def split(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = DATASETS[dataset]
    features, labels = data.data.astype(np.float32), data.target.astype(np.float32)
    return train_test_split(features, labels, test_size=0.3, random_state=0, stratify=labels)


def accuracy(fitted: model.KnnModel, features: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(fitted.predict(fitted.neighbours(features)[1]) == labels))


def settings(**values: object) -> model.Settings:
    return model.Settings(**{"k": 5, "predictor_type": "classifier", "sample_size": 10_000, **values})


# -- quality ------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_accuracy_is_within_1_point_of_scikit_learn(dataset: str) -> None:
    train_x, test_x, train_y, test_y = split(dataset)
    reference = KNeighborsClassifier(5).fit(train_x, train_y).score(test_x, test_y)
    ours = accuracy(model.fit(train_x, train_y, settings()), test_x, test_y)
    assert abs(ours - reference) <= 0.01, (ours, reference)


def test_regressor_matches_scikit_learn() -> None:
    features, targets = load_diabetes(return_X_y=True)
    train_x, test_x, train_y, _ = train_test_split(features, targets, test_size=0.3, random_state=0)
    reference = KNeighborsRegressor(5).fit(train_x, train_y).predict(test_x)
    fitted = model.fit(train_x, train_y, settings(predictor_type="regressor"))
    np.testing.assert_allclose(fitted.predict(fitted.neighbours(test_x)[1]), reference, rtol=1e-5)


@pytest.mark.parametrize(
    "options",
    [
        {"index_type": "faiss.IVFFlat"},
        {"index_type": "faiss.IVFFlat", "faiss_index_ivf_nlists": 4},
        {"index_type": "faiss.IVFPQ"},
        {"index_type": "faiss.IVFPQ", "faiss_index_pq_m": 3},
        {"index_metric": "COSINE"},
        {"index_metric": "COSINE", "index_type": "faiss.IVFFlat"},
        {"dimension_reduction_type": "sign", "dimension_reduction_target": 3},
        {"dimension_reduction_type": "fjlt", "dimension_reduction_target": 3},
        {"dimension_reduction_type": "fjlt", "dimension_reduction_target": 2, "index_type": "faiss.IVFPQ"},
    ],
    ids=str,
)
def test_approximate_options_stay_accurate_on_iris(options: dict[str, object]) -> None:
    train_x, test_x, train_y, test_y = split("iris")
    assert accuracy(model.fit(train_x, train_y, settings(**options)), test_x, test_y) >= 0.9


def test_sample_size_limits_the_index() -> None:
    train_x, _, train_y, _ = split("breast_cancer")
    fitted = model.fit(train_x, train_y, settings(sample_size=100))
    assert fitted.index.size == 100 and fitted.labels.shape == (100,)
    assert set(fitted.labels) <= set(train_y)


# -- indexes and reductions -----------------------------------------------------------------


POINTS = np.random.default_rng(0).normal(size=(300, 8))
QUERIES = np.random.default_rng(1).normal(size=(20, 8))


@pytest.mark.parametrize(
    ("metric", "score"),
    [
        ("L2", lambda q, v: ((q[:, None, :] - v[None]) ** 2).sum(axis=2)),
        ("INNER_PRODUCT", lambda q, v: -(q @ v.T)),
        ("COSINE", lambda q, v: -(index.normalize(q) @ index.normalize(v).T)),
    ],
)
def test_flat_search_is_brute_force(metric: str, score) -> None:
    flat = index.build(POINTS, metric=metric, index_type="faiss.Flat", nlists="auto", pq_m=None, rng=np.random.default_rng(0))
    distances, ids = flat.search(QUERIES, 4)
    scores = score(QUERIES, POINTS)
    np.testing.assert_array_equal(ids, np.argsort(scores, axis=1)[:, :4])
    expected = np.take_along_axis(scores, ids, axis=1)
    np.testing.assert_allclose(distances, expected if metric == "L2" else -expected, atol=1e-9)


def test_ivf_probing_every_cell_is_exact() -> None:
    flat = index.build(POINTS, metric="L2", index_type="faiss.Flat", nlists="auto", pq_m=None, rng=np.random.default_rng(0))
    ivf = index.build(POINTS, metric="L2", index_type="faiss.IVFFlat", nlists=9, pq_m=None, rng=np.random.default_rng(0))
    assert len(ivf.centroids) == 9 and ivf.nprobe == 3 and sorted(ivf.order) == list(range(300))
    ivf.nprobe = 9
    np.testing.assert_array_equal(ivf.search(QUERIES, 5)[1], flat.search(QUERIES, 5)[1])


def test_product_quantization_codes_approximate_the_vectors() -> None:
    rng = np.random.default_rng(2)
    codebooks = index.train_pq(POINTS, 4, rng)
    assert codebooks.shape == (4, 256, 2)
    codes = index.encode(codebooks, POINTS)
    assert codes.dtype == np.uint8 and codes.shape == (300, 4)
    error = np.mean((index.decode(codebooks, codes) - POINTS) ** 2)
    assert error < 0.05 * np.mean(POINTS**2)


@pytest.mark.parametrize("kind", ["sign", "fjlt"])
def test_reductions_roughly_keep_distances(kind: str) -> None:
    points = np.random.default_rng(3).normal(size=(50, 256))
    matrix = index.reduction_matrix(kind, 256, 64, np.random.default_rng(4))
    assert matrix.shape == (64, 256)
    reduced = points @ matrix.T
    pairs = np.triu_indices(50, 1)
    original = np.linalg.norm(points[:, None] - points[None], axis=2)[pairs]
    after = np.linalg.norm(reduced[:, None] - reduced[None], axis=2)[pairs]
    assert abs(np.mean(after / original) - 1) < 0.1
    assert np.all((after / original > 0.6) & (after / original < 1.4))


def test_fjlt_rows_are_scaled_hadamard_rows() -> None:
    matrix = index.reduction_matrix("fjlt", 16, 4, np.random.default_rng(5))
    assert set(np.unique(np.abs(matrix))) == {0.5}
    np.testing.assert_allclose(matrix @ matrix.T, 4 * np.eye(4), atol=1e-12)


def test_vote_takes_the_most_frequent_label_and_the_smallest_of_a_tie() -> None:
    labels = np.array([[2, 1, 1, 0, 2], [3, 3, 1, 1, 0], [0, 4, 4, 4, 0]], np.float32)
    np.testing.assert_array_equal(model.vote(labels), [1, 1, 4])


def test_default_pq_sub_vectors() -> None:
    assert [settings().pq_m(width) for width in (64, 13, 4, 30, 96)] == [16, 1, 1, 3, 24]
    assert settings(faiss_index_pq_m=8).pq_m(64) == 8


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"dimension_reduction_type": "sign"}, "dimension_reduction_target is required"),
        ({"dimension_reduction_target": 2}, "needs dimension_reduction_type"),
        ({"dimension_reduction_type": "fjlt", "dimension_reduction_target": 4}, "must be less than feature_dim \\(4\\)"),
        ({"faiss_index_pq_m": 5}, "faiss_index_pq_m: must be one of 1, 2, 3, 4, 8"),
    ],
)
def test_conflicting_settings_are_client_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(AlgorithmError, match=message):
        settings(**options).check(4)


def test_product_quantization_needs_l2() -> None:
    with pytest.raises(AlgorithmError, match="index_metric COSINE is not supported with index_type faiss.IVFPQ"):
        model.fit(POINTS, np.zeros(300), settings(index_type="faiss.IVFPQ", index_metric="COSINE"))


def test_more_neighbours_than_sampled_records_is_a_client_error() -> None:
    with pytest.raises(AlgorithmError, match="k is 5, but the model would hold only 4 record"):
        model.fit(POINTS, np.zeros(300), settings(sample_size=4))


# -- hyperparameters ----------------------------------------------------------------------


def test_hyperparameters_the_sagemaker_sdk_sends() -> None:
    raw = {
        "k": "3",
        "sample_size": "500",
        "predictor_type": "regressor",
        "dimension_reduction_type": "fjlt",
        "dimension_reduction_target": "4",
        "index_type": "faiss.IVFPQ",
        "index_metric": "L2",
        "faiss_index_ivf_nlists": "auto",
        "faiss_index_pq_m": "2",
        "feature_dim": "8",
        "mini_batch_size": "100",
    }
    values = ALGORITHM.parse_hyperparameters(raw)
    assert model.Settings.from_hyperparameters(values) == model.Settings(
        3, "regressor", 500, "fjlt", 4, "faiss.IVFPQ", "L2", "auto", 2
    )


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"feature_dim": "4", "k": "3", "sample_size": "10"}, "Missing required hyperparameter.*: predictor_type"),
        ({"feature_dim": "4", "k": "3", "predictor_type": "classifier"}, "Missing required hyperparameter.*: sample_size"),
        ({"feature_dim": "4", "k": "3", "sample_size": "10", "predictor_type": "ranker"}, "predictor_type: must be one of"),
        (
            {"feature_dim": "4", "k": "3", "sample_size": "10", "predictor_type": "classifier", "index_type": "hnsw"},
            "index_type: must be one of faiss.Flat, faiss.IVFFlat, faiss.IVFPQ",
        ),
        (
            {"feature_dim": "4", "k": "3", "sample_size": "10", "predictor_type": "classifier", "index_metric": "L1"},
            "index_metric",
        ),
        ({"feature_dim": "4", "k": "0", "sample_size": "10", "predictor_type": "classifier"}, "hyperparameter k"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


# -- training in a job's tree ---------------------------------------------------------------


IRIS_TRAIN, IRIS_TEST, IRIS_TRAIN_LABELS, IRIS_TEST_LABELS = split("iris")
HYPERPARAMETERS = {"feature_dim": 4, "k": 5, "predictor_type": "classifier", "sample_size": 1000}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A classifier trained in-process on labelled iris CSV, with a labelled CSV test channel."""
    root = tmp_path_factory.mktemp("knn")
    channels = [
        channel_at(root, "train", {"part-0": csv_bytes(IRIS_TRAIN, IRIS_TRAIN_LABELS)}, "text/csv"),
        channel_at(root, "test", {"part-0": csv_bytes(IRIS_TEST, IRIS_TEST_LABELS)}, "text/csv"),
    ]
    return root / "model", fit_in_process(ALGORITHM, fit, root, channels, {**HYPERPARAMETERS, "k": 3})


def test_fit_logs_test_accuracy(trained: tuple[Path, list[str]]) -> None:
    reference = KNeighborsClassifier(3).fit(IRIS_TRAIN, IRIS_TRAIN_LABELS).score(IRIS_TEST, IRIS_TEST_LABELS)
    assert logged_metrics(ALGORITHM, trained[1]) == {"test:accuracy": pytest.approx(reference)}


def test_regressor_logs_test_mse_from_recordio(tmp_path: Path) -> None:
    targets = IRIS_TRAIN[:, 0] * 2
    train = {"part-0": recordio_bytes(IRIS_TRAIN[:, 1:], targets)}
    test = {"part-0": recordio_bytes(IRIS_TEST[:, 1:], IRIS_TEST[:, 0] * 2)}
    channels = [
        channel_at(tmp_path, "train", train, "application/x-recordio-protobuf"),
        channel_at(tmp_path, "test", test, "application/x-recordio-protobuf"),
    ]
    hyperparameters = {**HYPERPARAMETERS, "feature_dim": 3, "predictor_type": "regressor"}
    metrics = logged_metrics(ALGORITHM, fit_in_process(ALGORITHM, fit, tmp_path, channels, hyperparameters))
    predicted = KNeighborsRegressor(5).fit(IRIS_TRAIN[:, 1:], targets).predict(IRIS_TEST[:, 1:])
    assert metrics == {"test:mse": pytest.approx(np.mean((predicted - IRIS_TEST[:, 0] * 2) ** 2), rel=1e-5)}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (csv_bytes(IRIS_TRAIN[:, :3], IRIS_TRAIN_LABELS), "text/csv", "3 feature column.*feature_dim is 4"),
        (csv_bytes(IRIS_TRAIN), "text/csv;label_size=0", "train channel has no labels"),
        (recordio_bytes(IRIS_TRAIN), "application/x-recordio-protobuf", "train channel has no labels"),
        (b"0,1,2,3,4\n1,5,6,seven,8\n", "text/csv", "non-numeric value 'seven'"),
        (
            recordio_bytes(IRIS_TRAIN[:6], np.array([0, 1, np.nan, 0, 1, 1], np.float32)),
            "application/x-recordio-protobuf",
            "NaN or infinite labels",
        ),
    ],
    ids=["wrong-width", "csv-without-labels", "recordio-without-labels", "non-numeric", "nan-label"],
)
def test_bad_training_data_is_a_client_error(tmp_path: Path, body: bytes, content_type: str, message: str) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": body}, content_type)]
    with pytest.raises(AlgorithmError, match=message):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, HYPERPARAMETERS)


# -- inference ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(trained: tuple[Path, list[str]]) -> serve.KnnPredictor:
    return serve.load(trained[0])


@pytest.fixture(scope="module")
def expected() -> list[float]:
    reference = KNeighborsClassifier(3).fit(IRIS_TRAIN, IRIS_TRAIN_LABELS)
    return [float(label) for label in reference.predict(IRIS_TEST[:6])]


def test_csv_request_json_response(predictor: serve.KnnPredictor, expected: list[float]) -> None:
    body, content_type = predictor.invoke(csv_bytes(IRIS_TEST[:6]), "text/csv", None)
    assert content_type == "application/json"
    assert json.loads(body) == {"predictions": [{"predicted_label": label} for label in expected]}


def test_json_request_jsonlines_response(predictor: serve.KnnPredictor, expected: list[float]) -> None:
    request = json.dumps({"instances": [{"features": row.tolist()} for row in IRIS_TEST[:6]]}).encode()
    body, content_type = predictor.invoke(request, "application/json", "application/jsonlines")
    assert content_type == "application/jsonlines"
    assert [json.loads(line) for line in body.decode().splitlines()] == [{"predicted_label": label} for label in expected]


def test_verbose_json_response_lists_the_neighbours(predictor: serve.KnnPredictor, expected: list[float]) -> None:
    request = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in IRIS_TEST[:6]).encode()
    body, content_type = predictor.invoke(request, "application/jsonlines", "application/json; verbose=true")
    assert content_type == "application/json"
    predictions = json.loads(body)["predictions"]
    reference = KNeighborsClassifier(3).fit(IRIS_TRAIN, IRIS_TRAIN_LABELS)
    distances, ids = reference.kneighbors(IRIS_TEST[:6])
    assert [row["predicted_label"] for row in predictions] == expected
    assert [row["labels"] for row in predictions] == IRIS_TRAIN_LABELS[ids].tolist()
    # Squared Euclidean distances, nearest first, as faiss's L2 indexes report them.
    np.testing.assert_allclose([row["distances"] for row in predictions], distances**2, rtol=1e-5, atol=1e-6)


def test_recordio_request_and_verbose_recordio_response(predictor: serve.KnnPredictor, expected: list[float]) -> None:
    request = recordio_bytes(IRIS_TEST[:6])
    body, content_type = predictor.invoke(request, "application/x-recordio-protobuf", "application/x-recordio-protobuf")
    assert content_type == "application/x-recordio-protobuf"
    assert recordio.decode_predictions(body) == [{"predicted_label": [label]} for label in expected]
    verbose, _ = predictor.invoke(request, "application/x-recordio-protobuf", "application/x-recordio-protobuf;verbose=true")
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(verbose))]
    assert [sorted(record.label) for record in records] == [["distances", "labels", "predicted_label"]] * 6
    assert all(record.label["labels"].values.shape == (3,) for record in records)


def test_bad_requests(predictor: serve.KnnPredictor) -> None:
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(b"1,2,3,4\n", "text/csv", "text/csv")
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"1,2,3,4\n", "text/libsvm", None)
    with pytest.raises(BadRequest, match="4 features; got 2"):
        predictor.invoke(b"1,2\n", "text/csv", None)
    assert not serve.wants_verbose("application/json") and not serve.wants_verbose(None)
    assert serve.wants_verbose("application/jsonlines; Verbose=True, application/json")
