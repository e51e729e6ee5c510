"""PCA's training container: principal components of the ``train`` channel."""

from __future__ import annotations

from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.pca import model


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
    train = ctx.read_checked("train", feature_dim, default_label_size=0)
    test = ctx.read_checked("test", feature_dim, default_label_size=0) if "test" in ctx.channels else None
    with threadpool_limits(ctx.num_cpus):
        fitted = model.fit(train.features, settings)
        ratios = ", ".join(f"{ratio:.6g}" for ratio in fitted.explained_variance_ratio)
        ctx.log(
            f"Computed {settings.num_components} principal components ({settings.algorithm_mode} mode) of "
            f"{fitted.rows} records; explained variance ratio: [{ratios}], "
            f"{float(fitted.explained_variance_ratio.sum()):.6g} in all"
        )
        if test is not None:
            error = fitted.reconstruction_error(test.features, settings.mini_batch_size)
            ctx.log(f"test: mean squared reconstruction error of {test.rows} records {error:.6g}")
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        fitted.save(ctx.model_dir)
