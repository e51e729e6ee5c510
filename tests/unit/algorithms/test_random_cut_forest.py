"""Random Cut Forest: the forest's structure and scores, the quality bar, training, inference."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from shipyard.algorithms import recordio
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedAccept,
    UnsupportedContentType,
)
from shipyard.algorithms.random_cut_forest import ALGORITHM, serve
from shipyard.algorithms.random_cut_forest.forest import Forest, build
from shipyard.algorithms.random_cut_forest.train import (
    MODEL_FILE,
    fit,
    three_sigma_metrics,
)
from shipyard.testing.algorithms import (
    channel_at,
    csv_bytes,
    fit_in_process,
    logged_metrics,
    recordio_bytes,
)

FEATURES = 4
HYPERPARAMETERS = {"feature_dim": FEATURES, "num_trees": 50}


def normal_points(rng: np.random.Generator, count: int) -> np.ndarray:
    """Two Gaussian clusters: what the forest learns as normal."""
    centres = rng.choice([-3.0, 3.0], size=(count, 1))
    return (rng.normal(size=(count, FEATURES)) + centres).astype(np.float32)


def anomalies(rng: np.random.Generator, count: int) -> np.ndarray:
    """Points scattered over a wide box, mostly far from both clusters."""
    return rng.uniform(-12, 12, size=(count, FEATURES)).astype(np.float32)


def labelled_test(rng: np.random.Generator, normal: int = 950, anomalous: int = 50) -> tuple[np.ndarray, np.ndarray]:
    features = np.vstack([normal_points(rng, normal), anomalies(rng, anomalous)])
    labels = np.r_[np.zeros(normal), np.ones(anomalous)].astype(np.float32)
    return features, labels


@pytest.fixture(scope="module")
def forest() -> Forest:
    return build(normal_points(np.random.default_rng(0), 2000), num_trees=50, num_samples_per_tree=256)


# -- quality ------------------------------------------------------------------------------


def test_auc_on_injected_anomalies_is_at_least_0_9(forest: Forest) -> None:
    features, labels = labelled_test(np.random.default_rng(1))
    scores = forest.score(features)
    auc = roc_auc_score(labels, scores)
    assert auc >= 0.9, auc
    inliers, outliers = scores[labels == 0], scores[labels == 1]
    # SageMaker's scale: inliers around 1, anomalies well above.
    assert 0.5 < inliers.mean() < 1.5
    assert outliers.mean() > 2 * inliers.mean()


def test_three_sigma_rule_finds_the_far_anomalies(forest: Forest) -> None:
    features, labels = labelled_test(np.random.default_rng(2))
    metrics = three_sigma_metrics(forest.score(features), labels)
    assert metrics["accuracy"] > 0.95
    assert metrics["precision"] > 0.8
    assert metrics["f1"] > 0.5


def test_three_sigma_metrics_by_hand() -> None:
    scores = np.r_[np.zeros(20), [10.0, 10.0]]
    labels = np.r_[np.zeros(19), [1.0, 1.0, 0.0]]
    # Threshold: mean + 3 std = 0.909 + 3 * 2.875; both 10s are above it.
    metrics = three_sigma_metrics(scores, labels)
    assert metrics == {"accuracy": 20 / 22, "precision": 0.5, "recall": 0.5, "f1": 0.5}


def test_no_predicted_anomaly_gives_zero_precision_and_f1() -> None:
    metrics = three_sigma_metrics(np.ones(10), np.r_[np.zeros(9), [1.0]])
    assert metrics == {"accuracy": 0.9, "precision": 0.0, "recall": 0.0, "f1": 0.0}


# -- the forest ---------------------------------------------------------------------------


def test_trees_are_random_cut_trees(forest: Forest) -> None:
    assert forest.num_trees == 50 and forest.sample_size == 256
    inner = np.flatnonzero(forest.left >= 0)
    leaves = np.flatnonzero(forest.left < 0)
    # Every distinct sample point has its own leaf: 2 * leaves - 1 nodes per tree.
    assert forest.left.size == 2 * leaves.size - forest.num_trees
    for children in (forest.left[inner], forest.right[inner]):
        assert np.all(forest.low[children] >= forest.low[inner])
        assert np.all(forest.high[children] <= forest.high[inner])
        assert np.all(forest.depth[children] == forest.depth[inner] + 1)
    assert np.all(forest.mass[forest.left[inner]] + forest.mass[forest.right[inner]] == forest.mass[inner])
    assert np.all(forest.mass[: forest.num_trees] == 256)
    at = np.arange(inner.size)
    # The cut splits the box's range on its dimension: left box below it, right box above.
    dims = forest.dim[inner]
    assert np.all(forest.high[forest.left[inner], dims] <= forest.cut[inner])
    assert np.all(forest.low[forest.right[inner], dims] > forest.cut[inner])
    assert np.all(forest.high[inner][at, dims] > forest.low[inner][at, dims])
    assert np.all(forest.low[leaves] == forest.high[leaves])


def test_cut_dimensions_follow_the_ranges() -> None:
    rng = np.random.default_rng(3)
    # One feature spans 9x the range of the other: roughly 90% of root cuts pick it.
    points = np.column_stack([rng.uniform(0, 9, 500), rng.uniform(0, 1, 500)])
    trees = build(points, num_trees=400, num_samples_per_tree=64, seed=5)
    share = np.mean(trees.dim[: trees.num_trees] == 0)
    assert 0.85 < share < 0.95, share


def reference_score(forest: Forest, point: np.ndarray) -> float:
    """The score as Amazon's library computes it, one tree and one node at a time, bottom up."""
    total = 0.0
    for root in range(forest.num_trees):
        path = [root]
        while forest.left[path[-1]] >= 0:
            node = path[-1]
            path.append(forest.left[node] if point[forest.dim[node]] <= forest.cut[node] else forest.right[node])
        leaf = path[-1]
        depth = len(path) - 1
        if np.array_equal(point, forest.low[leaf]):
            mass = forest.mass[leaf]
            score = (1 - mass / (2 * forest.sample_size)) / (depth + math.log2(mass + 1))
        else:
            score = 1 / (depth + 1)
        for level in range(depth - 1, -1, -1):
            node = path[level]
            low = np.minimum(forest.low[node], point).astype(float)
            high = np.maximum(forest.high[node], point).astype(float)
            grown = (high - low).sum()
            separation = (grown - (forest.high[node] - forest.low[node]).astype(float).sum()) / grown
            score = separation / (level + 1) + (1 - separation) * score
        total += score * math.log2(forest.sample_size + 1)
    return total / forest.num_trees


def test_vectorized_scores_match_a_node_by_node_walk(forest: Forest) -> None:
    rng = np.random.default_rng(4)
    training_point = forest.low[np.flatnonzero(forest.left < 0)[0]]
    points = np.vstack([normal_points(rng, 5), anomalies(rng, 3), training_point]).astype(np.float32)
    expected = [reference_score(forest, point) for point in points]
    np.testing.assert_allclose(forest.score(points), expected, rtol=1e-5)


def test_duplicates_share_a_leaf_and_seen_points_score_low() -> None:
    points = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]], dtype=np.float32), [60, 30, 10], axis=0)
    trees = build(points, num_trees=50, num_samples_per_tree=100)
    leaves = trees.left < 0
    assert sorted(set(trees.mass[leaves].tolist())) == [10, 30, 60]
    scores = trees.score(np.array([[0, 0], [1, 1], [5, 5], [20, 20]], dtype=np.float32))
    assert scores[0] < scores[1] < scores[2] < scores[3]


def test_fewer_points_than_samples_and_a_single_point() -> None:
    few = build(np.arange(10, dtype=np.float32).reshape(5, 2), num_trees=50, num_samples_per_tree=256)
    assert few.sample_size == 5
    single = build(np.ones((1, 3), dtype=np.float32), num_trees=50, num_samples_per_tree=256)
    scores = single.score(np.array([[1, 1, 1], [4, 4, 4]], dtype=np.float32))
    assert np.all(np.isfinite(scores)) and scores[0] < scores[1]


def test_save_and_load_keep_the_scores(forest: Forest, tmp_path: Path) -> None:
    forest.save(tmp_path / "forest.npz")
    loaded = Forest.load(tmp_path / "forest.npz")
    points = anomalies(np.random.default_rng(6), 20)
    np.testing.assert_array_equal(loaded.score(points), forest.score(points))


def test_scoring_is_chunked_without_changing_scores(forest: Forest, monkeypatch: pytest.MonkeyPatch) -> None:
    points = anomalies(np.random.default_rng(7), 50)
    whole = forest.score(points)
    monkeypatch.setattr("shipyard.algorithms.random_cut_forest.forest._CHUNK_ELEMENTS", 1)
    np.testing.assert_array_equal(forest.score(points), whole)


# -- hyperparameters ----------------------------------------------------------------------


def test_hyperparameter_defaults() -> None:
    values = ALGORITHM.parse_hyperparameters({"feature_dim": "4"})
    assert values == {
        "feature_dim": 4,
        "eval_metrics": ["accuracy", "precision_recall_fscore"],
        "num_samples_per_tree": 256,
        "num_trees": 100,
        "mini_batch_size": 1000,
    }


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({}, "feature_dim"),
        ({"feature_dim": "0"}, "feature_dim"),
        ({"feature_dim": "4", "num_trees": "49"}, "num_trees"),
        ({"feature_dim": "4", "num_trees": "1001"}, "num_trees"),
        ({"feature_dim": "4", "num_samples_per_tree": "2049"}, "num_samples_per_tree"),
        ({"feature_dim": "4", "num_samples_per_tree": "0"}, "num_samples_per_tree"),
        ({"feature_dim": "4", "mini_batch_size": "0"}, "mini_batch_size"),
        ({"feature_dim": "4", "batch_size": "10"}, "Unknown hyperparameter.*batch_size"),
    ],
)
def test_invalid_hyperparameters_are_named(raw: dict[str, str], named: str) -> None:
    with pytest.raises(AlgorithmError, match=named):
        ALGORITHM.parse_hyperparameters(raw)


# -- training in-process ------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A model directory trained in-process on CSV, with a labelled CSV test channel; its log."""
    root = tmp_path_factory.mktemp("rcf")
    rng = np.random.default_rng(8)
    test_features, test_labels = labelled_test(rng)
    channels = [
        channel_at(root, "train", {"part-0": csv_bytes(normal_points(rng, 1000))}, "text/csv"),
        channel_at(root, "test", {"part-0": csv_bytes(test_features, test_labels)}, "text/csv;label_size=1"),
    ]
    return root / "model", fit_in_process(ALGORITHM, fit, root, channels, HYPERPARAMETERS)


def test_fit_logs_sagemakers_test_metrics(trained: tuple[Path, list[str]]) -> None:
    model_dir, lines = trained
    metrics = logged_metrics(ALGORITHM, lines)
    assert set(metrics) == {"test:f1", "test:accuracy", "test:precision", "test:recall"}
    assert metrics["test:accuracy"] > 0.95 and metrics["test:f1"] > 0.5
    assert (model_dir / MODEL_FILE).is_file()


def test_eval_metrics_choose_what_is_logged(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    features, labels = labelled_test(rng, 200, 10)
    train = {"part-0": recordio_bytes(normal_points(rng, 300))}
    test = {"part-0": recordio_bytes(features, labels)}
    channels = [
        channel_at(tmp_path, "train", train, "application/x-recordio-protobuf"),
        channel_at(tmp_path, "test", test, "application/x-recordio-protobuf"),
    ]
    # The SageMaker SDK sends lists as JSON.
    hyperparameters = {**HYPERPARAMETERS, "eval_metrics": json.dumps(["accuracy"])}
    lines = fit_in_process(ALGORITHM, fit, tmp_path, channels, hyperparameters)
    assert set(logged_metrics(ALGORITHM, lines)) == {"test:accuracy"}


@pytest.mark.parametrize(
    ("train", "test", "hyperparameters", "message"),
    [
        (np.zeros((10, 3)), None, {}, "3 feature column.*feature_dim is 4"),
        (np.zeros((10, 4)), (np.zeros((5, 4)), None), {}, "test channel has no labels.*label_size=1"),
        (np.zeros((10, 4)), (np.zeros((5, 4)), np.full(5, 2.0)), {}, "labels must be 0.*or 1.*found 2"),
        (np.zeros((10, 4)), None, {"eval_metrics": "accuracy,auc"}, "'auc' for hyperparameter eval_metrics"),
    ],
)
def test_fit_refuses_bad_data(
    tmp_path: Path,
    train: np.ndarray,
    test: tuple[np.ndarray, np.ndarray | None] | None,
    hyperparameters: dict[str, str],
    message: str,
) -> None:
    channels = [channel_at(tmp_path, "train", {"part-0": csv_bytes(train)}, "text/csv")]
    if test is not None:
        content_type = "text/csv" if test[1] is None else "text/csv;label_size=1"
        channels.append(channel_at(tmp_path, "test", {"part-0": csv_bytes(*test)}, content_type))
    with pytest.raises(AlgorithmError, match=message):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, {**HYPERPARAMETERS, **hyperparameters})


def test_fit_refuses_non_finite_recordio_values(tmp_path: Path) -> None:
    features = np.ones((10, FEATURES), dtype=np.float32)
    features[3, 1] = np.inf
    channels = [channel_at(tmp_path, "train", {"part-0": recordio_bytes(features)}, "application/x-recordio-protobuf")]
    with pytest.raises(AlgorithmError, match="NaN or infinite"):
        fit_in_process(ALGORITHM, fit, tmp_path, channels, HYPERPARAMETERS)


# -- inference ----------------------------------------------------------------------------

QUERIES = np.array([[3, 3, 3, 3], [-3, -3, -3, -3], [11, -11, 11, -11]], dtype=np.float32)


@pytest.fixture(scope="module")
def predictor(trained: tuple[Path, list[str]]) -> serve.ForestPredictor:
    return serve.load(trained[0])


@pytest.fixture(scope="module")
def expected(predictor: serve.ForestPredictor) -> list[float]:
    scores = predictor.forest.score(QUERIES).tolist()
    assert scores[2] > 2 * max(scores[:2])
    return scores


def csv_request() -> bytes:
    return "".join(",".join(str(value) for value in row) + "\n" for row in QUERIES.tolist()).encode()


def test_json_request_and_response(predictor: serve.ForestPredictor, expected: list[float]) -> None:
    body = json.dumps({"instances": [{"features": row} for row in QUERIES.tolist()]}).encode()
    response, content_type = predictor.invoke(body, "application/json", "application/json")
    assert content_type == "application/json"
    assert json.loads(response) == {"scores": [{"score": score} for score in expected]}


def test_csv_request_gives_json_by_default_and_csv_on_request(
    predictor: serve.ForestPredictor, expected: list[float]
) -> None:
    response, content_type = predictor.invoke(csv_request(), "text/csv", None)
    assert content_type == "application/json"
    assert [row["score"] for row in json.loads(response)["scores"]] == expected
    response, content_type = predictor.invoke(csv_request(), "text/csv", "text/csv")
    assert content_type == "text/csv"
    assert [float(line) for line in response.decode().splitlines()] == expected


def test_jsonlines_request_and_response(predictor: serve.ForestPredictor, expected: list[float]) -> None:
    body = "".join(json.dumps({"features": row}) + "\n" for row in QUERIES.tolist()).encode()
    response, content_type = predictor.invoke(body, "application/jsonlines", "application/jsonlines")
    assert content_type == "application/jsonlines"
    assert [json.loads(line) for line in response.decode().splitlines()] == [{"score": score} for score in expected]


def test_recordio_request_and_response(predictor: serve.ForestPredictor, expected: list[float]) -> None:
    accept = "application/x-recordio-protobuf"
    response, content_type = predictor.invoke(recordio_bytes(QUERIES), accept, accept)
    assert content_type == accept
    scores = [row["score"] for row in recordio.decode_predictions(response)]
    np.testing.assert_allclose(np.ravel(scores), expected, rtol=1e-6)


def test_sparse_json_request(predictor: serve.ForestPredictor, expected: list[float]) -> None:
    row = QUERIES[2].tolist()
    instance = {"features": {"keys": [0, 1, 2, 3], "shape": [4], "values": row}}
    response, _ = predictor.invoke(json.dumps({"instances": [instance]}).encode(), "application/json", None)
    assert json.loads(response) == {"scores": [{"score": expected[2]}]}


def test_bad_requests(predictor: serve.ForestPredictor) -> None:
    with pytest.raises(BadRequest, match="4 features"):
        predictor.invoke(b"1,2,3\n", "text/csv", None)
    with pytest.raises(UnsupportedContentType):
        predictor.invoke(b"0 0:1", "text/libsvm", None)
    with pytest.raises(UnsupportedAccept):
        predictor.invoke(csv_request(), "text/csv", "image/png")
