"""Every built-in algorithm Shipyard runs, by name and by image repository."""

from __future__ import annotations

import importlib
from functools import cache

from shipyard.algorithms.spec import Algorithm

#: The packages under ``shipyard.algorithms`` that hold an algorithm, in the CLI's order.
MODULES = (
    "xgboost",
    "linear_learner",
    "lightgbm",
    "kmeans",
    "pca",
    "factorization_machines",
    "knn",
    "random_cut_forest",
    "deepar",
    "image_classification",
    "object_detection",
)

#: SageMaker's other built-in algorithms, which Shipyard does not run (yet).
NOT_AVAILABLE = (
    "blazingtext",
    "ntm",
    "lda",
    "object2vec",
    "ipinsights",
    "semantic-segmentation",
    "seq2seq",
)


@cache
def algorithms() -> tuple[Algorithm, ...]:
    """Every algorithm's declaration."""
    return tuple(importlib.import_module(f"shipyard.algorithms.{module}").ALGORITHM for module in MODULES)


@cache
def by_repository() -> dict[str, Algorithm]:
    """Image repository (or short name) -> algorithm."""
    return {repository: algorithm for algorithm in algorithms() for repository in algorithm.repositories}


def find(name: str) -> Algorithm | None:
    """The algorithm called ``name`` (its name, module or an image repository), if any."""
    for algorithm in algorithms():
        if name in (algorithm.name, algorithm.module):
            return algorithm
    return by_repository().get(name)
