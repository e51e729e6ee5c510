"""Training a factorization machine: mini-batch Adam that touches only a batch's features.

Each mini-batch is re-indexed onto the features it contains, so a step costs
``O(nonzeros * num_factors)`` whatever ``feature_dim`` is; those features' linear weights and
factors (and the bias) are updated with their own learning rate and weight decay, and the
optimizer's moments of the other features are left as they were ("lazy" Adam).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from shipyard.algorithms.data import Features
from shipyard.algorithms.factorization_machines.model import (
    FactorizationMachine,
    pairwise,
    squared,
)

DEFAULT_INIT_SCALE = 0.01
DEFAULT_EPSILON = 1e-8
BETA_1, BETA_2 = 0.9, 0.999

#: Called after each epoch with (epoch, the epoch's training RMSE or cross-entropy).
EpochReport = Callable[[int, float], None]


class LazyAdam:
    """Adam over the rows of one parameter array; a step moves only the rows it is given."""

    def __init__(self, parameters: np.ndarray, rate: float, wd: float, epsilon: float, clip: float | None) -> None:
        self.parameters = parameters
        self.rate, self.wd, self.epsilon, self.clip = rate, wd, epsilon, clip
        self.first = np.zeros_like(parameters)
        self.second = np.zeros_like(parameters)

    def step(self, rows: np.ndarray, gradient: np.ndarray, steps: int) -> None:
        """Update ``parameters[rows]`` from their loss gradient (weight decay is added here)."""
        gradient = gradient + self.wd * self.parameters[rows]
        if self.clip is not None:
            gradient = np.clip(gradient, -self.clip, self.clip)
        first = self.first[rows] = BETA_1 * self.first[rows] + (1.0 - BETA_1) * gradient
        second = self.second[rows] = BETA_2 * self.second[rows] + (1.0 - BETA_2) * gradient**2
        corrected_first = first / (1.0 - BETA_1**steps)
        corrected_second = second / (1.0 - BETA_2**steps)
        self.parameters[rows] -= self.rate * corrected_first / (np.sqrt(corrected_second) + self.epsilon)


def train(
    features: Features,
    labels: np.ndarray,
    hyperparameters: dict[str, Any],
    *,
    report: EpochReport | None = None,
    seed: int = 0,
) -> FactorizationMachine:
    """Train a factorization machine on checked data (0/1 labels for binary classifiers)."""
    hp = hyperparameters
    rng = np.random.default_rng(seed)
    matrix = sp.csr_matrix(features, dtype=np.float64)
    rows, columns = matrix.shape
    binary = hp["predictor_type"] == "binary_classifier"
    bias = _initial(hp, "bias", (1,), rng)
    linear = _initial(hp, "linear", (columns,), rng)
    factors = _initial(hp, "factors", (columns, hp["num_factors"]), rng)
    epsilon = hp["eps"] or DEFAULT_EPSILON
    bias_adam, linear_adam, factors_adam = (
        LazyAdam(parameters, hp[f"{group}_lr"], hp[f"{group}_wd"], epsilon, hp["clip_gradient"])
        for parameters, group in ((bias, "bias"), (linear, "linear"), (factors, "factors"))
    )
    whole = np.zeros(1, dtype=np.int64)
    batch = hp["mini_batch_size"]
    steps = 0
    for epoch in range(hp["epochs"]):
        order = rng.permutation(rows)
        epoch_matrix, epoch_labels = matrix[order], labels[order]
        total = 0.0
        for start in range(0, rows, batch):
            stop = min(start + batch, rows)
            local, present = _localized(epoch_matrix, start, stop)
            local_squared = squared(local)
            weights, vectors = linear[present], factors[present]
            projected = np.asarray(local @ vectors)
            outputs = bias[0] + np.asarray(local @ weights) + pairwise(projected, np.asarray(local_squared @ vectors**2))
            targets = epoch_labels[start:stop]
            if binary:
                total += float(np.sum(np.logaddexp(0.0, outputs) - targets * outputs))
                slopes = expit(outputs) - targets
            else:
                total += float(np.sum((outputs - targets) ** 2))
                slopes = outputs - targets
            slopes *= hp["rescale_grad"] or 1.0 / (stop - start)
            steps += 1
            bias_adam.step(whole, np.array([slopes.sum()]), steps)
            linear_adam.step(present, np.asarray(local.T @ slopes), steps)
            factor_gradient = np.asarray(local.T @ (slopes[:, None] * projected))
            factor_gradient -= np.asarray(local_squared.T @ slopes)[:, None] * vectors
            factors_adam.step(present, factor_gradient, steps)
        if report:
            report(epoch + 1, total / rows if binary else float(np.sqrt(total / rows)))
    return FactorizationMachine(hp["predictor_type"], float(bias[0]), linear, factors)


def _localized(matrix: sp.csr_matrix, start: int, stop: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Rows ``start:stop`` re-indexed onto the features they hold, and those features' indices."""
    first, last = matrix.indptr[start], matrix.indptr[stop]
    indices = matrix.indices[first:last]
    present, local_indices = np.unique(indices, return_inverse=True)
    local = sp.csr_matrix(
        (matrix.data[first:last], local_indices, matrix.indptr[start : stop + 1] - first),
        shape=(stop - start, len(present)),
    )
    return local, present


def _initial(hp: dict[str, Any], term: str, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Initial parameters of one term, by its ``<term>_init_method``."""
    method = hp[f"{term}_init_method"]
    if method == "normal":
        return rng.normal(0.0, hp[f"{term}_init_sigma"], shape)
    if method == "uniform":
        scale = hp[f"{term}_init_scale"]
        scale = DEFAULT_INIT_SCALE if scale is None else scale
        return rng.uniform(-scale, scale, shape)
    return np.full(shape, hp[f"{term}_init_value"] or 0.0)
