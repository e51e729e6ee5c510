"""K-Means' training container: cluster the ``train`` channel, score the ``test`` channel."""

from __future__ import annotations

import json

from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.kmeans import model

EVAL_METRICS = ("msd", "ssd")


def fit(ctx: TrainingContext) -> None:
    """Train on ``train``; with a ``test`` channel, log ``test:msd`` / ``test:ssd``."""
    hyperparameters = ctx.hyperparameters
    feature_dim = hyperparameters["feature_dim"]
    eval_metrics = parse_eval_metrics(hyperparameters["eval_metrics"])
    settings = model.Settings.from_hyperparameters(hyperparameters)
    train = ctx.read_checked("train", feature_dim, default_label_size=0)
    test = ctx.read_checked("test", feature_dim, default_label_size=0) if "test" in ctx.channels else None

    def on_epoch(epoch: int, msd: float) -> None:
        ctx.log(f"#progress_metric: host={ctx.host}, completed {100 * epoch // settings.epochs} % of epochs")
        ctx.log(f"epoch {epoch}: mean squared distance of the training records to their centers {msd:.6g}")

    with threadpool_limits(ctx.num_cpus):
        centers = model.fit(train.features, settings, on_epoch=on_epoch)
        train_msd = float(model.assign(train.features, centers).squared_distances.mean())
        ctx.log(f"Clustered {train.rows} training records into {settings.k} clusters; train msd {train_msd:.6g}")
        if test is not None:
            distances = model.assign(test.features, centers, settings.mini_batch_size).squared_distances
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
