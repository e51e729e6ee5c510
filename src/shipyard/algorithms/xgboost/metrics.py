"""Evaluation metrics of the XGBoost algorithm and the per-round log line SageMaker shows.

XGBoost computes its own metrics (``rmse``, ``auc``, ``mlogloss``...). SageMaker's container
adds ``accuracy``, ``f1``, ``mse`` and ``r2``, computed here from the predictions XGBoost
hands a custom metric (probabilities, class indices or values, by objective).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xgboost
from sklearn.metrics import f1_score, mean_squared_error, r2_score

from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.xgboost import MAXIMIZED

#: XGBoost writes a tab between a round's values; CloudWatch shows it as ``#011``, which is
#: what SageMaker's metric regexes (and users' copies of them) expect, so that is printed.
SEPARATOR = "#011"

CLASSIFIERS = ("binary:", "multi:")


def predicted_classes(objective: str, predictions: np.ndarray) -> np.ndarray:
    """Class indices from what XGBoost predicts for a classification objective."""
    if objective == "multi:softprob":
        return predictions.reshape(len(predictions), -1).argmax(axis=1)
    if objective == "binary:logistic":
        return (predictions > 0.5).astype(np.int64)
    if objective == "binary:logitraw":
        return (predictions > 0).astype(np.int64)
    return predictions.astype(np.int64)


def _accuracy(objective: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(predicted_classes(objective, predictions) == labels))


def _f1(objective: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    average = "macro" if objective.startswith("multi:") else "binary"
    return float(f1_score(labels, predicted_classes(objective, predictions), average=average, zero_division=0))


def _mse(objective: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(mean_squared_error(labels, predictions))


def _r2(objective: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    return float(r2_score(labels, predictions))


_CUSTOM: dict[str, Callable[[str, np.ndarray, np.ndarray], float]] = {
    "accuracy": _accuracy,
    "f1": _f1,
    "mse": _mse,
    "r2": _r2,
}
_CLASSIFICATION_ONLY = ("accuracy", "f1")


def split_metrics(names: Sequence[str], objective: str) -> tuple[list[str], list[str]]:
    """``eval_metric`` as (XGBoost's own metrics, the container's metrics)."""
    native = [name for name in names if name not in _CUSTOM]
    custom = [name for name in names if name in _CUSTOM]
    for name in custom:
        if name in _CLASSIFICATION_ONLY and not objective.startswith(CLASSIFIERS):
            raise AlgorithmError(f"Metric {name!r} needs a binary: or multi: objective, not {objective!r}")
    return native, custom


def custom_metric(names: Sequence[str], objective: str) -> Callable[[np.ndarray, xgboost.DMatrix], list[tuple[str, float]]]:
    """An XGBoost ``custom_metric`` computing the container's metrics ``names``."""

    def evaluate(predictions: np.ndarray, data: xgboost.DMatrix) -> list[tuple[str, float]]:
        labels = data.get_label()
        return [(name, _CUSTOM[name](objective, predictions, labels)) for name in names]

    return evaluate


def is_maximized(metric: str) -> bool:
    """Whether higher values of ``metric`` (``auc``, ``ndcg@5``...) are better."""
    return metric.split("@", 1)[0] in MAXIMIZED


class RoundLog(xgboost.callback.TrainingCallback):
    """Logs ``[N]#011train-rmse:0.5#011validation-rmse:0.6`` after every round."""

    def __init__(self, log: Callable[[str], None]) -> None:
        super().__init__()
        self._log = log

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list[float]]]) -> bool:
        values = "".join(
            f"{SEPARATOR}{channel}-{metric}:{history[-1]:.5f}"
            for channel, metrics in evals_log.items()
            for metric, history in metrics.items()
        )
        self._log(f"[{epoch}]{values}")
        return False
