"""Linear Learner's training container: train on ``train``, select on ``validation``, score ``test``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.data import Dataset, Features
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.linear_learner.metrics import evaluate
from shipyard.algorithms.linear_learner.trainer import resolve_loss, train

#: Metrics logged as ``<loss>``; the others are ``<score>``.
LOSS_METRICS = frozenset({"objective_loss", "mse", "rmse", "absolute_loss"})


def fit(ctx: TrainingContext) -> None:
    """Train, log SageMaker's metrics for the validation and test channels, save the model."""
    hyperparameters = checked_hyperparameters(ctx.hyperparameters)
    train_features, train_labels = checked_channel(ctx.read("train"), "train", hyperparameters)
    hyperparameters["feature_dim"] = train_features.shape[1]
    channels = {
        name: checked_channel(ctx.read(name), name, hyperparameters) for name in ("validation", "test") if name in ctx.channels
    }

    def on_epoch(epoch: int, loss: float) -> None:
        ctx.log(f"#progress_metric: host={ctx.host}, completed {100 * epoch // hyperparameters['epochs']} % of epochs")
        ctx.quality_metric("train", "objective_loss", loss)

    with threadpool_limits(ctx.num_cpus):
        result = train(
            train_features, train_labels, hyperparameters, validation=channels.get("validation"), report=on_epoch
        )
        ctx.log(
            f"Trained {result.epochs} epoch(s); kept epoch {result.best_epoch} of the model with "
            f"learning_rate={result.best_candidate.learning_rate:.4g}, wd={result.best_candidate.wd:.4g}, "
            f"l1={result.best_candidate.l1:.4g}, positive_example_weight_mult={result.best_candidate.positive_weight:.4g}"
        )
        for name, (features, labels) in channels.items():
            scores = evaluate(
                result.model, features, labels, beta=hyperparameters["f_beta"], top_k=hyperparameters["accuracy_top_k"]
            )
            for metric, value in scores.items():
                ctx.quality_metric(name, metric, value, "loss" if metric in LOSS_METRICS else "score")
    if ctx.is_leader:
        result.model.save(ctx.model_dir)


def checked_hyperparameters(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters, with the checks that span several of them; a copy."""
    checked = dict(hyperparameters)
    predictor_type = checked["predictor_type"]
    if predictor_type == "multiclass_classifier" and checked["num_classes"] is None:
        raise AlgorithmError("Missing required hyperparameter num_classes (predictor_type is multiclass_classifier)")
    try:
        resolve_loss(checked)
    except ValueError as error:
        raise AlgorithmError(f"Invalid value for hyperparameter loss: {error}") from None
    checked["positive_example_weight_mult"] = _positive_example_weight(checked["positive_example_weight_mult"])
    return checked


def _positive_example_weight(text: str) -> str | float:
    if text in ("auto", "balanced"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise AlgorithmError(
            f"Invalid value {text!r} for hyperparameter positive_example_weight_mult: "
            "must be a positive number, balanced or auto"
        )
    return value


def checked_channel(dataset: Dataset, channel: str, hyperparameters: dict[str, Any]) -> tuple[Features, np.ndarray]:
    """The channel's features and labels, after checking them against the hyperparameters."""
    labels = dataset.require_labels(channel).astype(np.float64)
    if hyperparameters["feature_dim"] != "auto":
        dataset.check_width(channel, hyperparameters["feature_dim"])
    dataset.check_finite(channel)
    predictor_type = hyperparameters["predictor_type"]
    if predictor_type == "binary_classifier" and not np.isin(labels, (0.0, 1.0)).all():
        bad = labels[~np.isin(labels, (0.0, 1.0))][0]
        raise AlgorithmError(f"The {channel} channel has label {bad:g}; a binary_classifier needs labels 0 and 1")
    if predictor_type == "multiclass_classifier":
        classes = hyperparameters["num_classes"]
        invalid = (labels != np.round(labels)) | (labels < 0) | (labels >= classes)
        if invalid.any():
            raise AlgorithmError(
                f"The {channel} channel has label {labels[invalid][0]:g}; with num_classes={classes} "
                f"the labels must be integers 0 to {classes - 1}"
            )
    return dataset.features, labels
