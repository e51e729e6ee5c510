"""Factorization Machines' training container: train on ``train``, score ``test``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn import metrics
from threadpoolctl import threadpool_limits

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.data import Dataset, Features
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.factorization_machines.model import FactorizationMachine
from shipyard.algorithms.factorization_machines.trainer import train


def fit(ctx: TrainingContext) -> None:
    """Train, log the test channel's metrics, save the model."""
    hyperparameters = ctx.hyperparameters
    features, labels = checked_channel(ctx.read("train"), "train", hyperparameters)
    test = checked_channel(ctx.read("test"), "test", hyperparameters) if "test" in ctx.channels else None
    binary = hyperparameters["predictor_type"] == "binary_classifier"

    def on_epoch(epoch: int, value: float) -> None:
        ctx.log(f"#progress_metric: host={ctx.host}, completed {100 * epoch // hyperparameters['epochs']} % of epochs")
        ctx.quality_metric("train", "binary_classification_cross_entropy" if binary else "rmse", value)

    with threadpool_limits(ctx.num_cpus):
        model = train(features, labels, hyperparameters, report=on_epoch)
        if test is not None:
            for name, (value, kind) in evaluate(model, *test).items():
                ctx.quality_metric("test", name, value, kind)
    if ctx.is_leader:
        model.save(ctx.model_dir)


def evaluate(model: FactorizationMachine, features: Features, labels: np.ndarray) -> dict[str, tuple[float, str]]:
    """SageMaker's test metrics (name -> (value, log kind)): RMSE, or cross-entropy, accuracy and F1 at 0.5."""
    scores = model.scores(features)
    if model.predictor_type == "regressor":
        return {"rmse": (math.sqrt(float(np.mean((scores - labels) ** 2))), "loss")}
    predicted = (scores >= 0.5).astype(np.int64)
    truth = labels.astype(np.int64)
    return {
        "binary_classification_cross_entropy": (float(metrics.log_loss(truth, scores, labels=[0, 1])), "loss"),
        "binary_classification_accuracy": (float(metrics.accuracy_score(truth, predicted)), "score"),
        "binary_f_beta": (float(metrics.f1_score(truth, predicted, zero_division=0)), "score"),
    }


def checked_channel(dataset: Dataset, channel: str, hyperparameters: dict[str, Any]) -> tuple[Features, np.ndarray]:
    """The channel's features and labels, after checking them against the hyperparameters."""
    dataset.check_width(channel, hyperparameters["feature_dim"])
    labels = dataset.require_labels(channel).astype(np.float64)
    dataset.check_finite(channel)
    if hyperparameters["predictor_type"] == "binary_classifier" and not np.isin(labels, (0.0, 1.0)).all():
        bad = labels[~np.isin(labels, (0.0, 1.0))][0]
        raise AlgorithmError(f"The {channel} channel has label {bad:g}; a binary_classifier needs labels 0 and 1")
    return dataset.features, labels
