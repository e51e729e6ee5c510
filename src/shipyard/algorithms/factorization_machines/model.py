"""A trained factorization machine and how it predicts.

``output(x) = w0 + <w, x> + sum_{i<j} <v_i, v_j> x_i x_j``, computed in ``O(nonzeros *
factors)`` with Rendle's identity ``sum_{i<j} <v_i, v_j> x_i x_j = 1/2 * sum_f ((x V)_f^2 -
(x^2 V^2)_f)``. Binary classifiers score ``sigmoid(output)`` and label 1 from 0.5.

The model directory holds ``factorization-machines.npz`` (``bias``, ``linear``, ``factors``)
and ``factorization-machines.json`` (the predictor type).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from shipyard.algorithms.data import Features

WEIGHTS_FILE = "factorization-machines.npz"
SETTINGS_FILE = "factorization-machines.json"
PREDICTOR_TYPES = ("binary_classifier", "regressor")


def squared(features: sp.csr_matrix) -> sp.csr_matrix:
    """``features`` squared element by element (the same sparsity)."""
    return sp.csr_matrix((features.data**2, features.indices, features.indptr), shape=features.shape)


def pairwise(projected: np.ndarray, squared_projected: np.ndarray) -> np.ndarray:
    """Each row's interaction term from ``x V`` and ``x^2 V^2``."""
    return 0.5 * (projected**2 - squared_projected).sum(axis=1)


@dataclass(frozen=True)
class FactorizationMachine:
    """A second-order factorization machine: ``bias``, ``linear`` (features,), ``factors`` (features, num_factors)."""

    predictor_type: str
    bias: float
    linear: np.ndarray
    factors: np.ndarray

    @property
    def feature_dim(self) -> int:
        return self.linear.shape[0]

    def outputs(self, features: Features) -> np.ndarray:
        """The model's output for each row (before the sigmoid of binary classifiers)."""
        rows = sp.csr_matrix(features, dtype=np.float64)
        interactions = pairwise(np.asarray(rows @ self.factors), np.asarray(squared(rows) @ self.factors**2))
        return self.bias + np.asarray(rows @ self.linear) + interactions

    def scores(self, features: Features) -> np.ndarray:
        """Probabilities of label 1 (binary classifiers) or predicted values (regressors)."""
        outputs = self.outputs(features)
        return expit(outputs) if self.predictor_type == "binary_classifier" else outputs

    def predict(self, features: Features) -> list[dict[str, Any]]:
        """SageMaker's prediction rows: ``{"score", "predicted_label"}`` or ``{"score"}``."""
        scores = self.scores(features)
        if self.predictor_type == "regressor":
            return [{"score": float(score)} for score in scores]
        return [{"score": float(score), "predicted_label": int(score >= 0.5)} for score in scores]

    def save(self, directory: Path) -> None:
        """Write the model files into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / WEIGHTS_FILE, bias=np.array(self.bias), linear=self.linear, factors=self.factors)
        settings = {"predictor_type": self.predictor_type, "feature_dim": self.feature_dim, "num_factors": self.factors.shape[1]}
        (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2))

    @classmethod
    def load(cls, directory: Path) -> FactorizationMachine:
        """The model saved in ``directory``."""
        predictor_type = json.loads((directory / SETTINGS_FILE).read_text())["predictor_type"]
        if predictor_type not in PREDICTOR_TYPES:
            raise ValueError(f"{SETTINGS_FILE} names an unknown predictor type {predictor_type!r}")
        with np.load(directory / WEIGHTS_FILE) as arrays:
            return cls(predictor_type, float(arrays["bias"]), arrays["linear"], arrays["factors"])
