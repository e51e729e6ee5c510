"""Linear Learner's metrics, with SageMaker's names, and its binary threshold calibration."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn import metrics

from shipyard.algorithms.data import Features
from shipyard.algorithms.linear_learner.model import LinearModel


@dataclass(frozen=True)
class Criterion:
    """How a binary classifier's threshold (and model) is chosen."""

    name: str
    beta: float = 1.0
    target_recall: float = 0.8
    target_precision: float = 0.8


def best_threshold(
    scores: np.ndarray, labels: np.ndarray, criterion: Criterion, default: float
) -> tuple[float, float]:
    """The threshold on ``scores`` that maximises ``criterion`` on these labels, and that maximum.

    Rows scoring at least the threshold are labelled 1. Candidates lie midway between
    consecutive distinct scores (and at the lowest score: everything positive); of equally
    good ones, the closest to ``default`` wins, so calibration moves the threshold only as
    far as the rows justify.
    """
    order = np.argsort(-scores, kind="stable")
    ranked, truth = scores[order], labels[order].astype(np.float64)
    positives = truth.sum()
    true_positives = np.cumsum(truth)
    predicted = np.arange(1, len(ranked) + 1, dtype=np.float64)
    false_positives = predicted - true_positives
    # A cut is only possible after the last of equal scores.
    cuts = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))
    tp, fp = true_positives[cuts], false_positives[cuts]
    fn = positives - tp
    precision = tp / (tp + fp)
    recall = tp / positives if positives else np.zeros_like(tp)
    if criterion.name == "accuracy":
        value = (tp + (len(ranked) - positives - fp)) / len(ranked)
    elif criterion.name == "f_beta":
        beta2 = criterion.beta**2
        value = (1 + beta2) * tp / np.maximum((1 + beta2) * tp + beta2 * fn + fp, 1e-12)
    elif criterion.name == "precision_at_target_recall":
        value = np.where(recall >= criterion.target_recall, precision, 0.0)
    elif criterion.name == "recall_at_target_precision":
        value = np.where(precision >= criterion.target_precision, recall, 0.0)
    else:
        raise ValueError(f"no threshold criterion {criterion.name!r}")
    following = np.append(ranked[cuts[:-1] + 1], ranked[-1])
    thresholds = np.where(cuts + 1 == len(ranked), ranked[cuts], (ranked[cuts] + following) / 2.0)
    ties = np.flatnonzero(value == value.max())
    best = ties[np.argmin(np.abs(thresholds[ties] - default))]
    return float(thresholds[best]), float(value[best])


def evaluate(
    model: LinearModel, features: Features, labels: np.ndarray, *, beta: float = 1.0, top_k: int = 3
) -> dict[str, float]:
    """SageMaker's metrics of ``model`` on labelled rows, by metric name (without the channel).

    Metrics a channel cannot define (ROC AUC with one class present) are left out.
    """
    values = {"objective_loss": model.objective_loss(features, labels)}
    scores = model.scores(features)
    if model.predictor_type == "regressor":
        errors = scores - labels
        mse = float(np.mean(errors**2))
        values.update(mse=mse, rmse=math.sqrt(mse), absolute_loss=float(np.mean(np.abs(errors))))
        return values
    truth = labels.astype(np.int64)
    predicted = model.labels(scores)
    if model.predictor_type == "binary_classifier":
        values.update(
            binary_classification_accuracy=metrics.accuracy_score(truth, predicted),
            binary_f_beta=metrics.fbeta_score(truth, predicted, beta=beta, zero_division=0),
            precision=metrics.precision_score(truth, predicted, zero_division=0),
            recall=metrics.recall_score(truth, predicted, zero_division=0),
        )
        if len(np.unique(truth)) == 2:
            values["roc_auc_score"] = metrics.roc_auc_score(truth, scores)
        return {name: float(value) for name, value in values.items()}
    precision, recall, f_beta, _ = metrics.precision_recall_fscore_support(
        truth, predicted, beta=beta, labels=np.arange(scores.shape[1]), average="macro", zero_division=0
    )
    ranks = true_class_ranks(scores, truth)
    values.update(
        multiclass_accuracy=metrics.accuracy_score(truth, predicted),
        multiclass_top_k_accuracy=np.mean(ranks <= top_k),
        macro_f_beta=f_beta,
        macro_precision=precision,
        macro_recall=recall,
        dcg=np.mean(1.0 / np.log2(1.0 + ranks)),
    )
    return {name: float(value) for name, value in values.items()}


def true_class_ranks(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The 1-based rank of each row's true class among its class scores (the DCG uses ``1 / log2(1 + rank)``)."""
    true_scores = scores[np.arange(len(labels)), labels]
    return 1 + (scores > true_scores[:, None]).sum(axis=1)
