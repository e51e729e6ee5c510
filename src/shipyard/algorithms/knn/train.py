"""k-NN's training container: index a sample of the ``train`` channel, score ``test``."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.data import Dataset, Features
from shipyard.algorithms.knn import model


def fit(ctx: TrainingContext) -> None:
    """Train on ``train``; with a ``test`` channel, log ``test:accuracy`` or ``test:mse``."""
    hyperparameters = ctx.hyperparameters
    feature_dim = hyperparameters["feature_dim"]
    settings = model.Settings.from_hyperparameters(hyperparameters)
    features, labels = checked(ctx.read("train"), "train", feature_dim)
    test = checked(ctx.read("test"), "test", feature_dim) if "test" in ctx.channels else None
    with threadpool_limits(ctx.num_cpus):
        fitted = model.fit(features, labels, settings)
        ctx.log(
            f"Indexed {fitted.index.size} of the {features.shape[0]} training records "
            f"({settings.index_type}, {settings.index_metric}, dimension {fitted.index.centroids.shape[1]})"
        )
        if test is not None:
            _, neighbour_labels = fitted.neighbours(test[0], hyperparameters["mini_batch_size"])
            predicted = fitted.predict(neighbour_labels)
            if settings.predictor_type == "classifier":
                ctx.quality_metric("test", "accuracy", float(np.mean(predicted == test[1])), "score")
            else:
                ctx.quality_metric("test", "mse", float(np.mean((predicted - test[1]) ** 2)))
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        fitted.save(ctx.model_dir)


def checked(dataset: Dataset, channel: str, feature_dim: int) -> tuple[Features, np.ndarray]:
    """The channel's features and labels, after checking the width and that all are finite."""
    dataset.check_width(channel, feature_dim)
    labels = dataset.require_labels(channel)
    dataset.check_finite(channel)
    return dataset.features, labels
