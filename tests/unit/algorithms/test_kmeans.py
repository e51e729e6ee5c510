"""K-Means: the quality bar against scikit-learn, the two stages, training, inference."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, load_wine, make_blobs

from shipyard.algorithms import recordio
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.kmeans import ALGORITHM, model, serve
from shipyard.algorithms.kmeans.train import fit, parse_eval_metrics
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    logged_metrics,
    recordio_bytes,
)


def blobs() -> np.ndarray:
    return make_blobs(600, n_features=5, centers=4, cluster_std=1.5, random_state=7)[0]


DATASETS = {"iris": (load_iris().data, 3), "wine": (load_wine().data, 3), "blobs": (blobs(), 4)}


def inertia(features: np.ndarray, centers: np.ndarray) -> float:
    return float(model.assign(features, centers).squared_distances.sum())


# -- quality ------------------------------------------------------------------------------


@pytest.mark.parametrize("init_method", ["random", "kmeans++"])
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_inertia_is_within_2_percent_of_scikit_learn(dataset: str, init_method: str) -> None:
    data, k = DATASETS[dataset]
    features = data.astype(np.float32)
    centers = model.fit(features, model.Settings(k=k, init_method=init_method, mini_batch_size=100))
    reference = KMeans(k, n_init=10, random_state=0).fit(features.astype(np.float64)).inertia_
    assert centers.shape == (k, features.shape[1]) and centers.dtype == np.float32
    assert inertia(features, centers) <= 1.02 * reference, (inertia(features, centers), reference)


def test_sparse_training_data_gives_the_dense_result() -> None:
    features = blobs().astype(np.float32)
    features[features < 0] = 0
    settings = model.Settings(k=4, mini_batch_size=128)
    dense = model.fit(features, settings)
    sparse = model.fit(sp.csr_matrix(features), settings)
    np.testing.assert_allclose(sparse, dense, rtol=1e-5, atol=1e-5)


# -- the two stages -----------------------------------------------------------------------


def test_streaming_centers_are_k_times_the_extra_center_factor() -> None:
    assert model.Settings(k=3, extra_center_factor=4).streaming_centers(1000) == 12
    # auto: ceil(ln(rows)) per cluster, never more centers than rows.
    assert model.Settings(k=3).streaming_centers(1000) == 3 * 7
    assert model.Settings(k=3, extra_center_factor=100).streaming_centers(50) == 50


def test_each_epoch_is_reported_and_later_epochs_fit_no_worse() -> None:
    reports: list[tuple[int, float]] = []
    model.fit(blobs(), model.Settings(k=4, epochs=3, mini_batch_size=50), on_epoch=lambda *report: reports.append(report))
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    assert reports[2][1] <= reports[0][1]


def test_half_life_makes_the_centers_follow_recent_records() -> None:
    # One cluster whose records drift from 0 to 10 in the order they are stored.
    drifting = np.linspace(0, 10, 2000)[:, None]
    settings = model.Settings(k=1, extra_center_factor=1, mini_batch_size=10)
    assert model.fit(drifting, settings)[0, 0] == pytest.approx(5.0, abs=1e-3)
    recent = model.fit(drifting, model.Settings(k=1, extra_center_factor=1, mini_batch_size=10, half_life_time_size=50))
    assert recent[0, 0] > 9.5


def test_more_clusters_than_records_is_a_client_error() -> None:
    with pytest.raises(AlgorithmError, match="k is 5, but the train channel has only 3 record"):
        model.fit(np.eye(3), model.Settings(k=5))


def test_fewer_distinct_points_than_clusters_is_a_client_error() -> None:
    with pytest.raises(AlgorithmError, match="fewer than k=3 distinct points"):
        model.fit(np.ones((50, 2)), model.Settings(k=3))


# -- hyperparameters ----------------------------------------------------------------------


def test_hyperparameters_the_sagemaker_sdk_sends() -> None:
    raw = {
        "k": "3",
        "feature_dim": "4",
        "force_dense": "True",
        "init_method": "kmeans++",
        "local_lloyd_max_iter": "50",
        "local_lloyd_tol": "0.001",
        "local_lloyd_num_trials": "2",
        "local_lloyd_init_method": "random",
        "half_life_time_size": "0",
        "epochs": "2",
        "extra_center_factor": "5",
        "eval_metrics": json.dumps(["msd", "ssd"]),
        "mini_batch_size": "500",
    }
    values = ALGORITHM.parse_hyperparameters(raw)
    settings = model.Settings.from_hyperparameters(values)
    assert settings == model.Settings(3, 2, 500, "kmeans++", 5, 0, "random", 50, 2, 0.001)
    assert parse_eval_metrics(values["eval_metrics"]) == ["msd", "ssd"]


def test_defaults() -> None:
    values = ALGORITHM.parse_hyperparameters({"k": "2", "feature_dim": "3"})
    assert model.Settings.from_hyperparameters(values) == model.Settings(k=2)
    assert values["eval_metrics"] == ["msd"]


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"feature_dim": "3"}, "Missing required hyperparameter.*: k"),
        ({"k": "2"}, "Missing required hyperparameter.*: feature_dim"),
        ({"k": "0", "feature_dim": "3"}, "hyperparameter k"),
        ({"k": "2", "feature_dim": "3", "init_method": "forgy"}, "init_method: must be one of random, kmeans\\+\\+"),
        ({"k": "2", "feature_dim": "3", "local_lloyd_tol": "2"}, "local_lloyd_tol"),
        ({"k": "2", "feature_dim": "3", "extra_center_factor": "lots"}, "extra_center_factor"),
        ({"k": "2", "feature_dim": "3", "centers": "4"}, "Unknown hyperparameter.*centers"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


def test_unknown_eval_metric_is_named() -> None:
    with pytest.raises(AlgorithmError, match='eval_metrics.*use \\["msd"\\]'):
        parse_eval_metrics(['"mse"'])


# -- training in a job's tree ---------------------------------------------------------------


IRIS = load_iris().data.astype(np.float32)
HYPERPARAMETERS = {"k": 3, "feature_dim": 4}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A model trained in-process on iris CSV (features only), with a CSV test channel."""
    root = tmp_path_factory.mktemp("kmeans")
    channels = [
        channel_at(root, "train", {"part-0": csv_bytes(IRIS[::2])}, "text/csv"),
        channel_at(root, "test", {"part-0": csv_bytes(IRIS[1::2])}, "text/csv"),
    ]
    hyperparameters = {**HYPERPARAMETERS, "eval_metrics": '["msd", "ssd"]', "epochs": 2}
    return root / "model", fit_in_process(ALGORITHM, fit, root, channels, hyperparameters)


def test_fit_logs_test_msd_and_ssd(trained: tuple[Path, list[str]]) -> None:
    model_dir, lines = trained
    centers = model.load(model_dir)
    distances = model.assign(IRIS[1::2], centers).squared_distances
    metrics = logged_metrics(ALGORITHM, lines)
    assert metrics["test:msd"] == pytest.approx(distances.mean(), rel=1e-6)
    assert metrics["test:ssd"] == pytest.approx(distances.sum(), rel=1e-6)
    assert "#progress_metric: host=algo-1, completed 100 % of epochs" in lines


def test_recordio_training_data_with_one_eval_metric(tmp_path: Path) -> None:
    channels = [
        channel_at(tmp_path, "train", {"part-0": recordio_bytes(IRIS)}, "application/x-recordio-protobuf"),
        channel_at(tmp_path, "test", {"part-0": recordio_bytes(IRIS[:30])}, "application/x-recordio-protobuf"),
    ]
    lines = fit_in_process(ALGORITHM, fit, tmp_path, channels, {**HYPERPARAMETERS, "eval_metrics": "ssd"})
    metrics = logged_metrics(ALGORITHM, lines)
    assert set(metrics) == {"test:ssd"}
    assert metrics["test:ssd"] == pytest.approx(inertia(IRIS[:30], model.load(tmp_path / "model")), rel=1e-6)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (csv_bytes(IRIS[:, :3]), "text/csv", "3 feature column.*feature_dim is 4"),
        (csv_bytes(IRIS[:, :3], IRIS[:, 3]), "text/csv;label_size=1", "3 feature column.*feature_dim is 4"),
        (b"1,2,3,4\n5,6,seven,8\n", "text/csv", "non-numeric value 'seven'"),
        (recordio_bytes(np.array([[1, 2, np.nan, 4]], np.float32)), "application/x-recordio-protobuf", "NaN"),
    ],
    ids=["wrong-width", "wrong-width-labelled", "non-numeric", "nan"],
)
def test_bad_training_data_is_a_client_error(tmp_path: Path, body: bytes, content_type: str, message: str) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": body}, content_type)]
    with pytest.raises(AlgorithmError, match=message):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, HYPERPARAMETERS)


# -- inference ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def predictor(trained: tuple[Path, list[str]]) -> serve.KMeansPredictor:
    return serve.load(trained[0])


@pytest.fixture(scope="module")
def expected(predictor: serve.KMeansPredictor) -> list[dict[str, float]]:
    """The closest center and Euclidean distance of the first five iris records, by brute force."""
    distances = np.linalg.norm(IRIS[:5, None, :].astype(np.float64) - predictor.centers[None, :, :], axis=2)
    return [
        {"closest_cluster": float(row.argmin()), "distance_to_cluster": float(row.min())} for row in distances
    ]


def assert_rows(rows: list[dict[str, float]], expected: list[dict[str, float]]) -> None:
    assert [row["closest_cluster"] for row in rows] == [row["closest_cluster"] for row in expected]
    np.testing.assert_allclose(
        [row["distance_to_cluster"] for row in rows], [row["distance_to_cluster"] for row in expected], rtol=1e-5
    )


def test_csv_request_json_response(predictor: serve.KMeansPredictor, expected: list[dict[str, float]]) -> None:
    body, content_type = predictor.invoke(csv_bytes(IRIS[:5]), "text/csv", None)
    assert content_type == "application/json"
    document = json.loads(body)
    assert list(document) == ["predictions"]
    assert all(set(row) == {"closest_cluster", "distance_to_cluster"} for row in document["predictions"])
    assert_rows(document["predictions"], expected)


def test_json_request_jsonlines_response(predictor: serve.KMeansPredictor, expected: list[dict[str, float]]) -> None:
    request = json.dumps({"instances": [{"features": row.tolist()} for row in IRIS[:5]]}).encode()
    body, content_type = predictor.invoke(request, "application/json", "application/jsonlines")
    assert content_type == "application/jsonlines"
    assert_rows([json.loads(line) for line in body.decode().splitlines()], expected)


def test_jsonlines_request_csv_response(predictor: serve.KMeansPredictor, expected: list[dict[str, float]]) -> None:
    request = "".join(json.dumps({"features": row.tolist()}) + "\n" for row in IRIS[:5]).encode()
    body, content_type = predictor.invoke(request, "application/jsonlines", "text/csv")
    assert content_type == "text/csv"
    rows = [dict(zip(("closest_cluster", "distance_to_cluster"), map(float, line.split(",")), strict=True))
            for line in body.decode().splitlines()]
    assert_rows(rows, expected)


def test_recordio_request_and_response(predictor: serve.KMeansPredictor, expected: list[dict[str, float]]) -> None:
    body, content_type = predictor.invoke(
        recordio_bytes(IRIS[:5]), "application/x-recordio-protobuf", "application/x-recordio-protobuf"
    )
    assert content_type == "application/x-recordio-protobuf"
    records = [recordio.decode_record(payload) for payload in recordio.read_records(io.BytesIO(body))]
    assert all(not record.features for record in records)
    rows = [{name: float(tensor.values[0]) for name, tensor in record.label.items()} for record in records]
    assert_rows(rows, expected)


def test_bad_requests(predictor: serve.KMeansPredictor) -> None:
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"1,2,3,4\n", "application/x-parquet", None)
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(b"1,2,3,4\n", "text/csv", "image/png")
    with pytest.raises(BadRequest, match="4 features; got 3"):
        predictor.invoke(b"1,2,3\n", "text/csv", None)
    with pytest.raises(BadRequest):
        predictor.invoke(b"1,2,x,4\n", "text/csv", None)
