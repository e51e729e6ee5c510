"""K-Means' training container: cluster the ``train`` channel, score the ``test`` channel."""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext, run
from shipyard.algorithms.data import Dataset, Features
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.kmeans import ALGORITHM, model

EVAL_METRICS = ("msd", "ssd")


def fit(ctx: TrainingContext) -> None:
    """Train on ``train``; with a ``test`` channel, log ``test:msd`` / ``test:ssd``."""
    hyperparameters = ctx.hyperparameters
    feature_dim = hyperparameters["feature_dim"]
    eval_metrics = parse_eval_metrics(hyperparameters["eval_metrics"])
    settings = model.Settings.from_hyperparameters(hyperparameters)
    features = checked_features(ctx.read("train", default_label_size=0), "train", feature_dim)
    test = checked_features(ctx.read("test", default_label_size=0), "test", feature_dim) if "test" in ctx.channels else None

    def on_epoch(epoch: int, msd: float) -> None:
        ctx.log(f"#progress_metric: host={ctx.host}, completed {100 * epoch // settings.epochs} % of epochs")
        ctx.log(f"epoch {epoch}: mean squared distance of the training records to their centers {msd:.6g}")

    with threadpool_limits(ctx.num_cpus):
        centers = model.fit(features, settings, on_epoch=on_epoch)
        train_msd = float(model.assign(features, centers).squared_distances.mean())
        ctx.log(f"Clustered {features.shape[0]} training records into {settings.k} clusters; train msd {train_msd:.6g}")
        if test is not None:
            distances = model.assign(test, centers, settings.mini_batch_size).squared_distances
            scores = {"msd": float(distances.mean()), "ssd": float(distances.sum())}
            for name in eval_metrics:
                ctx.quality_metric("test", name, scores[name])
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        model.save(ctx.model_dir, centers)


def parse_eval_metrics(items: list[str]) -> list[str]:
    """The metric names of ``eval_metrics``: ``msd,ssd`` or a JSON list such as ``["msd", "ssd"]``."""
    names = [item.strip().strip("'\"") for item in items]
    unknown = [name for name in names if name not in EVAL_METRICS]
    if unknown or not names:
        raise AlgorithmError(
            f"Invalid value {json.dumps(names)} for hyperparameter eval_metrics: "
            'use ["msd"], ["ssd"] or ["msd","ssd"]'
        )
    return names


def checked_features(dataset: Dataset, channel: str, feature_dim: int) -> Features:
    """The channel's features, after checking their width and that they are finite."""
    dataset.check_width(channel, feature_dim)
    values = dataset.features.data if sp.issparse(dataset.features) else dataset.features
    if not np.isfinite(values).all():
        raise AlgorithmError(f"The {channel} channel holds NaN or infinite feature values")
    return dataset.features


if __name__ == "__main__":
    run(ALGORITHM, fit)
