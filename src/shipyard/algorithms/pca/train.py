"""PCA's training container: principal components of the ``train`` channel."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext, run
from shipyard.algorithms.data import Dataset, Features
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.pca import ALGORITHM, model


def fit(ctx: TrainingContext) -> None:
    """Train on ``train``; with a ``test`` channel, log how well the components reconstruct it."""
    hyperparameters = ctx.hyperparameters
    feature_dim = hyperparameters["feature_dim"]
    settings = model.Settings(
        num_components=hyperparameters["num_components"],
        algorithm_mode=hyperparameters["algorithm_mode"],
        subtract_mean=hyperparameters["subtract_mean"],
        extra_components=hyperparameters["extra_components"],
        mini_batch_size=hyperparameters["mini_batch_size"],
    )
    features = checked_features(ctx.read("train", default_label_size=0), "train", feature_dim)
    test = checked_features(ctx.read("test", default_label_size=0), "test", feature_dim) if "test" in ctx.channels else None
    with threadpool_limits(ctx.num_cpus):
        fitted = model.fit(features, settings)
        ratios = ", ".join(f"{ratio:.6g}" for ratio in fitted.explained_variance_ratio)
        ctx.log(
            f"Computed {settings.num_components} principal components ({settings.algorithm_mode} mode) of "
            f"{fitted.rows} records; explained variance ratio: [{ratios}], "
            f"{float(fitted.explained_variance_ratio.sum()):.6g} in all"
        )
        if test is not None:
            error = fitted.reconstruction_error(test, settings.mini_batch_size)
            ctx.log(f"test: mean squared reconstruction error of {test.shape[0]} records {error:.6g}")
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        fitted.save(ctx.model_dir)


def checked_features(dataset: Dataset, channel: str, feature_dim: int) -> Features:
    """The channel's features, after checking their width and that they are finite."""
    dataset.check_width(channel, feature_dim)
    values = dataset.features.data if sp.issparse(dataset.features) else dataset.features
    if not np.isfinite(values).all():
        raise AlgorithmError(f"The {channel} channel holds NaN or infinite feature values")
    return dataset.features


if __name__ == "__main__":
    run(ALGORITHM, fit)
