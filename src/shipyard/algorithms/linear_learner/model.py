"""A trained Linear Learner model: weights in the data's own units, and how it predicts.

The model directory holds ``linear-learner.npz`` (``weights`` of shape ``(features,
outputs)`` and ``bias``) and ``linear-learner.json`` (predictor type, loss and its
parameters, decision threshold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.algorithms.data import Features
from shipyard.algorithms.linear_learner.losses import (
    LOSSES_BY_PREDICTOR,
    Loss,
    loss_parameters,
    make_loss,
)

WEIGHTS_FILE = "linear-learner.npz"
SETTINGS_FILE = "linear-learner.json"


@dataclass(frozen=True)
class LinearModel:
    """``outputs = features @ weights + bias``, read as the predictor type says.

    Binary classifiers label a row 1 when its score reaches ``threshold``; multiclass
    classifiers pick the highest-scoring class; regressors only score.
    """

    predictor_type: str
    loss: Loss
    weights: np.ndarray
    bias: np.ndarray
    threshold: float = 0.5

    @property
    def feature_dim(self) -> int:
        return self.weights.shape[0]

    def outputs(self, features: Features) -> np.ndarray:
        """Raw linear outputs, ``(rows, outputs)``."""
        return np.asarray(features @ self.weights, dtype=np.float64) + self.bias

    def scores(self, features: Features) -> np.ndarray:
        """Probabilities (logistic, softmax) or values: ``(rows,)``, or ``(rows, classes)`` for multiclass."""
        scores = self.loss.scores(self.outputs(features))
        return scores if self.predictor_type == "multiclass_classifier" else scores[:, 0]

    def labels(self, scores: np.ndarray) -> np.ndarray:
        """Predicted labels for :meth:`scores`."""
        if self.predictor_type == "multiclass_classifier":
            return scores.argmax(axis=1)
        return (scores >= self.threshold).astype(np.int64)

    def predict(self, features: Features) -> list[dict[str, Any]]:
        """SageMaker's prediction rows: ``{"score", "predicted_label"}`` (classifiers) or ``{"score"}``."""
        scores = self.scores(features)
        if self.predictor_type == "regressor":
            return [{"score": float(score)} for score in scores]
        labels = self.labels(scores)
        if self.predictor_type == "multiclass_classifier":
            return [
                {"score": [float(value) for value in row], "predicted_label": int(label)}
                for row, label in zip(scores, labels, strict=True)
            ]
        return [
            {"score": float(score), "predicted_label": int(label)} for score, label in zip(scores, labels, strict=True)
        ]

    def objective_loss(self, features: Features, labels: np.ndarray) -> float:
        """Mean loss of the model on labelled rows."""
        values, _ = self.loss(self.outputs(features)[:, None, :], labels.astype(np.float64))
        return float(values.mean())

    def save(self, directory: Path) -> None:
        """Write the model files into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / WEIGHTS_FILE, weights=self.weights, bias=self.bias)
        settings = {
            "predictor_type": self.predictor_type,
            "loss": self.loss.name,
            "loss_parameters": loss_parameters(self.loss),
            "threshold": self.threshold,
            "feature_dim": self.feature_dim,
        }
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))

    @classmethod
    def load(cls, directory: Path) -> LinearModel:
        """The model saved in ``directory``."""
        settings = json.loads((directory / SETTINGS_FILE).read_text())
        predictor_type, loss = settings["predictor_type"], settings["loss"]
        if loss not in LOSSES_BY_PREDICTOR.get(predictor_type, ()):
            raise ValueError(f"{SETTINGS_FILE} names loss {loss!r} for predictor type {predictor_type!r}")
        with np.load(directory / WEIGHTS_FILE) as arrays:
            weights, bias = arrays["weights"], arrays["bias"]
        return cls(predictor_type, make_loss(loss, settings["loss_parameters"]), weights, bias, settings["threshold"])
