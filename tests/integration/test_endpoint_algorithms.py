"""Every built-in algorithm's model behind an endpoint (a variant each), invoked through
boto3 in each content type and Accept its inference handler takes: the answers are the
handler's own, called in-process on the same model directory; an unsupported content type
is ``ModelError`` 415 and an unsupported Accept 406."""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from shipyard.algorithms import recordio
from shipyard.algorithms.catalog import MODULES, algorithms
from shipyard.algorithms.container import Channel
from shipyard.algorithms.content_types import (
    CSV,
    IMAGE,
    JPEG,
    JSON,
    JSONLINES,
    LIBSVM,
    PNG,
    RECORDIO,
    mime,
)
from shipyard.algorithms.inference import Predictor, load_predictor
from shipyard.testing import RunningServer, start_server
from shipyard.testing.algorithms import (
    IMAGES,
    channel_at,
    csv_bytes,
    fit_in_process,
    libsvm_bytes,
    recordio_bytes,
)
from shipyard.testing.hosting import (
    create_model,
    delete_endpoint,
    deploy,
    model_tar,
    upload,
    variant,
    wait_for_endpoint,
)
from shipyard.testing.identities import unique_name
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.vision import digits, digits_files, encode, shapes, shapes_files

#: The request types each algorithm's inference handler reads (its declaration's, and more
#: where the handler takes more: XGBoost reads JSON too).
CONTENT_TYPES = {
    "xgboost": (CSV, LIBSVM, RECORDIO, JSON, JSONLINES),
    "linear_learner": (CSV, JSON, JSONLINES, RECORDIO),
    "lightgbm": (CSV, JSON, JSONLINES),
    "kmeans": (CSV, JSON, JSONLINES, RECORDIO),
    "pca": (CSV, JSON, JSONLINES, RECORDIO),
    "factorization_machines": (JSON, JSONLINES, RECORDIO),
    "knn": (CSV, JSON, JSONLINES, RECORDIO),
    "random_cut_forest": (CSV, JSON, JSONLINES, RECORDIO),
    "deepar": (JSON, JSONLINES),
    "image_classification": (IMAGE, JPEG, PNG),
    "object_detection": (IMAGE, JPEG, PNG),
}
#: The Accept values each handler answers, verbose forms included.
ACCEPTS = {
    "xgboost": (CSV, JSON, JSONLINES, RECORDIO),
    "linear_learner": (JSON, JSONLINES, CSV, RECORDIO),
    "lightgbm": (JSON, f"{JSON};verbose", JSONLINES, f"{JSONLINES};verbose", CSV),
    "kmeans": (JSON, JSONLINES, CSV, RECORDIO),
    "pca": (JSON, JSONLINES, RECORDIO),
    "factorization_machines": (JSON, JSONLINES, RECORDIO),
    "knn": (JSON, f"{JSON}; verbose=true", JSONLINES, f"{JSONLINES}; verbose=true", RECORDIO),
    "random_cut_forest": (JSON, JSONLINES, CSV, RECORDIO),
    "deepar": (JSON, JSONLINES),
    "image_classification": (JSON, JSONLINES),
    "object_detection": (JSON, JSONLINES),
}
ALGORITHMS = {algorithm.module: algorithm for algorithm in algorithms()}

FEATURES = 4
#: The feature rows of the tabular requests.
ROWS = np.array([[0.5, 1.0, -0.3, 2.0], [-1.2, 0.4, 0.0, 0.7], [2.1, -0.6, 1.5, -1.0]], dtype=np.float32)
HORIZON = 3
DEEPAR_CONFIGURATION = {"num_samples": 4, "output_types": ["mean", "quantiles", "samples"], "quantiles": ["0.1", "0.5", "0.9"]}


def training_rows(count: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded features and binary labels (``x0 + 0.5 x1 > 0``)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count, FEATURES)).astype(np.float32)
    return features, (features[:, 0] + 0.5 * features[:, 1] > 0).astype(np.float32)


def daily_series(count: int, length: int, seed: int = 1) -> list[dict[str, Any]]:
    """Daily series with a weekly pattern."""
    rng = np.random.default_rng(seed)
    weekly = 10 + 3 * np.sin(np.arange(length) * 2 * np.pi / 7)
    return [
        {"start": "2024-01-01 00:00:00", "target": [round(float(value), 3) for value in weekly + rng.normal(0, 0.5, length)]}
        for _ in range(count)
    ]


def jsonl(documents: list[Any]) -> bytes:
    return "".join(json.dumps(document) + "\n" for document in documents).encode()


#: Tiny settings: each model fits in well under a second on one core (DeepAR, importing
#: PyTorch, in a few).
HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "xgboost": {"num_round": 3, "max_depth": 2, "objective": "binary:logistic"},
    "linear_learner": {"predictor_type": "binary_classifier", "epochs": 2, "mini_batch_size": 32},
    "lightgbm": {"num_boost_round": 5, "num_threads": 1, "verbosity": -1},
    "kmeans": {"k": 3, "feature_dim": FEATURES},
    "pca": {"feature_dim": FEATURES, "num_components": 2, "mini_batch_size": 40},
    "factorization_machines": {
        "feature_dim": FEATURES, "num_factors": 2, "predictor_type": "binary_classifier", "epochs": 2, "mini_batch_size": 50
    },
    "knn": {"feature_dim": FEATURES, "k": 3, "predictor_type": "classifier", "sample_size": 200},
    "random_cut_forest": {"feature_dim": FEATURES, "num_trees": 50, "num_samples_per_tree": 32},
    # deterministic-L1 draws no random samples: the endpoint and the in-process handler
    # forecast the same paths.
    "deepar": {"time_freq": "D", "context_length": 7, "prediction_length": HORIZON, "epochs": 1, "num_cells": 8, "num_layers": 1,
               "mini_batch_size": 16, "likelihood": "deterministic-L1"},
    "image_classification": {"num_classes": 10, "num_training_samples": 40, "image_shape": "3,8,8", "num_layers": 20, "epochs": 1,
                             "mini_batch_size": 8},
    "object_detection": {"num_classes": 2, "num_training_samples": 8, "image_shape": 32, "epochs": 1, "mini_batch_size": 4},
}
UNSUPERVISED = ("kmeans", "pca", "random_cut_forest")


def training_channels(module: str, root: Path) -> list[Channel]:
    """The channels ``module`` trains on, written under ``root``."""
    if module == "deepar":
        return [channel_at(root, "train", {"data.json": jsonl(daily_series(8, 42))}, JSONLINES)]
    if module == "image_classification":
        images, lst = digits_files(range(40))
        return [channel_at(root, "train", images, IMAGE), channel_at(root, "train_lst", {"train.lst": lst}, IMAGE)]
    if module == "object_detection":
        images, annotations = shapes_files(shapes(8, side=32, seed=1))
        return [channel_at(root, "train", images, PNG), channel_at(root, "train_annotation", annotations, PNG)]
    features, labels = training_rows()
    if module == "factorization_machines":
        return [channel_at(root, "train", {"data": recordio_bytes(sp.csr_matrix(features), labels)}, RECORDIO)]
    body = csv_bytes(features, None if module in UNSUPERVISED else labels)
    return [channel_at(root, "train", {"data.csv": body}, CSV)]


def fit_model(module: str, root: Path) -> Path:
    """Fit a tiny model of ``module`` in-process under ``root``; its model directory."""
    fit = importlib.import_module(f"shipyard.algorithms.{module}.train").fit
    fit_in_process(ALGORITHMS[module], fit, root, training_channels(module, root), HYPERPARAMETERS[module])
    return root / "model"


def request_body(module: str, content_type: str) -> bytes:
    """A request of ``module``'s kind in ``content_type``."""
    if module in ("image_classification", "object_detection"):
        pixels = digits()[0][7] if module == "image_classification" else shapes(1, side=32, seed=5)[0].pixels
        return encode(pixels, "JPEG" if content_type == JPEG else "PNG")
    if module == "deepar":
        instances = daily_series(2, 30, seed=7)
        if content_type == JSON:
            return json.dumps({"instances": instances, "configuration": DEEPAR_CONFIGURATION}).encode()
        return jsonl(instances)
    if content_type == CSV:
        return csv_bytes(ROWS)
    if content_type == LIBSVM:
        return libsvm_bytes(ROWS, np.zeros(len(ROWS)))
    if content_type == RECORDIO:
        return recordio_bytes(sp.csr_matrix(ROWS) if module == "factorization_machines" else ROWS)
    if module == "factorization_machines":
        instances = [
            {"data": {"features": {"keys": np.flatnonzero(row).tolist(), "shape": [FEATURES], "values": row[row != 0].tolist()}}}
            for row in ROWS
        ]
    else:
        instances = [{"features": row} for row in ROWS.tolist()]
    return json.dumps({"instances": instances}).encode() if content_type == JSON else jsonl(instances)


def parsed(body: bytes, content_type: str) -> Any:
    """A response body as numbers and structure, to compare up to float rounding."""
    if content_type == JSON:
        return json.loads(body)
    if content_type == JSONLINES:
        return [json.loads(line) for line in body.splitlines() if line.strip()]
    if content_type == CSV:
        return [[float(cell) for cell in line.split(",")] for line in body.decode().splitlines()]
    assert content_type == RECORDIO, content_type
    return recordio.decode_predictions(body)


def assert_numerically_equal(actual: Any, expected: Any, where: str = "") -> None:
    """``actual`` has ``expected``'s structure, its strings, and its numbers within float rounding."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), f"{where}: {actual!r} != {expected!r}"
        for key in expected:
            assert_numerically_equal(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} != {expected!r}"
        for index, (item, wanted) in enumerate(zip(actual, expected, strict=True)):
            assert_numerically_equal(item, wanted, f"{where}[{index}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        assert math.isclose(actual, expected, rel_tol=1e-5, abs_tol=1e-6), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def unsupported(candidates: tuple[str, ...], supported: tuple[str, ...]) -> str:
    """The first of ``candidates`` that is not ``supported``."""
    return next(candidate for candidate in candidates if candidate not in {mime(item) for item in supported})


def variant_name(module: str) -> str:
    """The algorithm's name: variant names allow no ``_``."""
    return ALGORITHMS[module].name


#: A config holds at most 10 variants: the deep algorithms get an endpoint of their own.
DEEP = ("deepar", "image_classification", "object_detection")


class Deployed:
    """The shared endpoints, and each algorithm's handler loaded in-process from the same model."""

    def __init__(self, server: RunningServer, endpoints: dict[str, str], model_dirs: dict[str, Path]) -> None:
        self.runtime = server.client("sagemaker-runtime")
        self.endpoints = endpoints
        self.model_dirs = model_dirs
        self._predictors: dict[str, Predictor] = {}

    def predictor(self, module: str) -> Predictor:
        if module not in self._predictors:
            self._predictors[module] = load_predictor(module, self.model_dirs[module])
        return self._predictors[module]

    def invoke(self, module: str, body: bytes, content_type: str, accept: str | None = None) -> dict[str, Any]:
        extra = {"Accept": accept} if accept else {}
        return self.runtime.invoke_endpoint(
            EndpointName=self.endpoints[module], TargetVariant=variant_name(module), ContentType=content_type, Body=body, **extra
        )


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """Two endpoints on a server of their own (the deep algorithms' and the others'), with one
    variant per built-in algorithm."""
    models = tmp_path_factory.mktemp("models")
    model_dirs = {module: fit_model(module, models / module) for module in MODULES}
    with start_server(tmp_path_factory.mktemp("server"), extra_env={"SHIPYARD_CPUS": "32", "SHIPYARD_MEMORY": "98304"}) as server:
        sagemaker = server.client("sagemaker")
        bucket = unique_name("algorithms")
        server.client("s3").create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        tabular, deep = unique_name("tabular"), unique_name("deep")
        variants: dict[str, list[dict[str, Any]]] = {tabular: [], deep: []}
        endpoints = {}
        for module, directory in model_dirs.items():
            files = {path.relative_to(directory).as_posix(): path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file()}
            url = upload(server, bucket, f"{module}/model.tar.gz", model_tar(files))
            model = unique_name(variant_name(module)[:20])
            create_model(sagemaker, model, role, url, image=IMAGES[variant_name(module)])
            endpoints[module] = deep if module in DEEP else tabular
            variants[endpoints[module]].append(variant(variant_name(module), model))
        for endpoint, members in variants.items():
            deploy(sagemaker, endpoint, members, wait=False)
        for endpoint in variants:
            described = wait_for_endpoint(sagemaker, endpoint, timeout=240)
            assert described["EndpointStatus"] == "InService", described.get("FailureReason")
        yield Deployed(server, endpoints, model_dirs)
        for endpoint in variants:
            delete_endpoint(sagemaker, endpoint)


def test_the_cases_cover_every_algorithm_and_its_declared_types() -> None:
    assert CONTENT_TYPES.keys() == ACCEPTS.keys() == HYPERPARAMETERS.keys() == set(MODULES)
    for module, algorithm in ALGORITHMS.items():
        assert set(algorithm.inference_content_types) <= set(CONTENT_TYPES[module]), module
        assert set(algorithm.accept_types) <= set(ACCEPTS[module]), module


@pytest.mark.parametrize(
    ("module", "content_type"),
    [(module, content_type) for module in MODULES for content_type in CONTENT_TYPES[module]],
)
def test_each_content_type_and_accept_answers_as_the_handler_in_process(deployed: Deployed, module: str, content_type: str) -> None:
    body = request_body(module, content_type)
    for accept in (None, *ACCEPTS[module]):
        answer = deployed.invoke(module, body, content_type, accept)
        expected_body, expected_type = deployed.predictor(module).invoke(body, content_type, accept)
        case = f"{module} {content_type} -> {accept}"
        assert answer["InvokedProductionVariant"] == variant_name(module), case
        assert answer["ContentType"] == expected_type, case
        assert_numerically_equal(parsed(answer["Body"].read(), expected_type), parsed(expected_body, expected_type), case)


@pytest.mark.parametrize("module", MODULES)
def test_an_unsupported_content_type_is_a_model_error_415(deployed: Deployed, module: str) -> None:
    content_type = unsupported((LIBSVM, RECORDIO, CSV, IMAGE), CONTENT_TYPES[module])
    with pytest.raises(deployed.runtime.exceptions.ModelError) as refused:
        deployed.invoke(module, request_body(module, CONTENT_TYPES[module][0]), content_type)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ModelError", 424)
    assert error["OriginalStatusCode"] == 415
    assert f"Content type {content_type!r} is not supported" in error["OriginalMessage"]


@pytest.mark.parametrize("module", MODULES)
def test_an_unsupported_accept_is_a_model_error_406(deployed: Deployed, module: str) -> None:
    accept = unsupported((CSV, RECORDIO, PNG), ACCEPTS[module])
    content_type = CONTENT_TYPES[module][0]
    with pytest.raises(deployed.runtime.exceptions.ModelError) as refused:
        deployed.invoke(module, request_body(module, content_type), content_type, accept)
    error = refused.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ModelError", 424)
    assert error["OriginalStatusCode"] == 406
    assert f"Accept {accept!r} is not supported" in error["OriginalMessage"]
