"""Random Cut Forest's training container: build the forest, score a labelled test channel."""

from __future__ import annotations

import numpy as np

from shipyard.algorithms.container import TrainingContext
from shipyard.algorithms.data import Dataset
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.random_cut_forest.forest import build

#: The model file inside ``model.tar.gz``.
MODEL_FILE = "random-cut-forest.npz"
#: Scores further than this many standard deviations above the mean count as anomalies.
SIGMAS = 3.0


def fit(ctx: TrainingContext) -> None:
    """Train on the ``train`` channel; with a ``test`` channel, log SageMaker's test metrics."""
    hyperparameters = ctx.hyperparameters
    feature_dim = hyperparameters["feature_dim"]
    eval_metrics = hyperparameters["eval_metrics"]
    train = ctx.read_checked("train", feature_dim, default_label_size=0)
    forest = build(train.dense(), hyperparameters["num_trees"], hyperparameters["num_samples_per_tree"])
    ctx.log(
        f"Built {forest.num_trees} trees on samples of {forest.sample_size} of the {train.rows} training records"
    )
    if "test" in ctx.channels:
        test = ctx.read("test", default_label_size=0)
        labels = _checked_labels(test)
        test.check_width("test", feature_dim)
        test.check_finite("test")
        metrics = three_sigma_metrics(forest.score(test.dense()), labels)
        _log_metrics(ctx, metrics, eval_metrics)
    if ctx.is_leader:
        ctx.model_dir.mkdir(parents=True, exist_ok=True)
        forest.save(ctx.model_dir / MODEL_FILE)


def three_sigma_metrics(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of calling anomalous (label 1) every score above
    the mean plus three standard deviations, as SageMaker's RCF scores its test channel."""
    predicted = scores > scores.mean() + SIGMAS * scores.std()
    actual = labels == 1
    true_positives = float(np.sum(predicted & actual))
    precision = true_positives / int(predicted.sum()) if predicted.any() else 0.0
    recall = true_positives / int(actual.sum()) if actual.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = float(np.mean(predicted == actual))
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def _log_metrics(ctx: TrainingContext, metrics: dict[str, float], eval_metrics: list[str]) -> None:
    if "accuracy" in eval_metrics:
        ctx.quality_metric("test", "accuracy", metrics["accuracy"], "score")
    if "precision_recall_fscore" in eval_metrics:
        for name in ("precision", "recall", "f1"):
            ctx.quality_metric("test", name, metrics[name], "score")


def _checked_labels(test: Dataset) -> np.ndarray:
    if test.labels is None:
        raise AlgorithmError(
            "The test channel has no labels: give CSV test data as text/csv;label_size=1 "
            "(first column 1 for an anomaly, 0 for a normal record) or RecordIO records with labels"
        )
    invalid = ~np.isin(test.labels, (0, 1))
    if invalid.any():
        raise AlgorithmError(
            f"The test channel's labels must be 0 (normal) or 1 (anomaly); found {test.labels[invalid][0]:g}"
        )
    return test.labels
