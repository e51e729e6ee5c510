"""Every built-in algorithm is declared consistently and has a trainer and a handler."""

from __future__ import annotations

import importlib.util
import re

import pytest

from shipyard.algorithms import catalog

ALGORITHMS = catalog.algorithms()


def test_every_module_declares_its_algorithm() -> None:
    assert [algorithm.module for algorithm in ALGORITHMS] == list(catalog.MODULES)
    names = [algorithm.name for algorithm in ALGORITHMS]
    assert len(set(names)) == len(names)
    repositories = [repository for algorithm in ALGORITHMS for repository in algorithm.repositories]
    assert len(set(repositories)) == len(repositories)


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda algorithm: algorithm.name)
def test_declaration_is_consistent(algorithm) -> None:
    for module in ("train", "serve"):
        assert importlib.util.find_spec(f"shipyard.algorithms.{algorithm.module}.{module}") is not None
    assert algorithm.default_content_type in algorithm.content_types
    assert any(algorithm.channels.values()), "some channel must be required"
    # SageMaker's PCA reports no metrics; every other algorithm does.
    assert algorithm.metrics or algorithm.name == "pca"
    for metric in algorithm.metrics:
        assert re.fullmatch(r"(train|validation|test):\S+", metric.name), metric.name
        assert re.compile(metric.regex).groups == 1
    for item in algorithm.hyperparameters:
        if item.default is not None and not item.required and isinstance(item.default, str):
            item.parse(item.default)  # every default is itself a valid value


def test_find_by_name_module_and_repository() -> None:
    assert catalog.find("linear-learner") is catalog.find("linear_learner") is catalog.find("linear-learner")
    assert catalog.find("sagemaker-xgboost").name == "xgboost"
    assert catalog.find("blazingtext") is None


def test_the_sdks_amazon_estimators_hyperparameters_are_accepted() -> None:
    """What ``sagemaker.KMeans(...).hyperparameters()`` and its siblings send, for each algorithm."""
    sent = {
        "kmeans": {"k": "3", "feature_dim": "4", "mini_batch_size": "10", "force_dense": "True"},
        "pca": {"num_components": "2", "feature_dim": "4", "mini_batch_size": "10"},
        "linear-learner": {"predictor_type": "binary_classifier", "feature_dim": "4", "mini_batch_size": "10"},
        "factorization-machines": {"num_factors": "4", "predictor_type": "regressor", "feature_dim": "4", "mini_batch_size": "10"},
        "knn": {"k": "3", "sample_size": "100", "predictor_type": "classifier", "feature_dim": "4", "mini_batch_size": "10"},
        "randomcutforest": {"feature_dim": "4", "mini_batch_size": "1000"},
    }
    for name, hyperparameters in sent.items():
        values = catalog.find(name).parse_hyperparameters(hyperparameters)
        assert values["feature_dim"] == 4, name
