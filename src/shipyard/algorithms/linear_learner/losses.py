"""Linear Learner's loss functions, evaluated for many parallel models at once.

A loss takes the models' outputs, shaped ``(rows, models, width)`` (``width`` is 1, or the
number of classes for ``softmax_loss``), and the labels, shaped ``(rows,)``; it returns
the per-row loss ``(rows, models)`` and its gradient with respect to the outputs.

Regression losses are homogeneous in the residual: scaling residuals by ``s`` and the
loss's own lengths (``huber_delta``, ``loss_insensitivity``) by ``s`` scales the loss by
``s ** power``. Training on a standardised label uses :meth:`Loss.rescaled` so the
hyperparameters keep the user's units.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, softmax

#: The losses each predictor type accepts; the first is what ``auto`` means.
LOSSES_BY_PREDICTOR = {
    "binary_classifier": ("logistic", "hinge_loss"),
    "multiclass_classifier": ("softmax_loss",),
    "regressor": (
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
}


class Loss(ABC):
    """A loss over model outputs."""

    name: str = ""
    #: Degree of homogeneity in the residual (regression losses).
    power: int = 1

    @abstractmethod
    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row loss ``(rows, models)`` and its gradient ``(rows, models, width)``."""

    def rescaled(self, scale: float) -> Loss:
        """This loss for residuals divided by ``scale``."""
        return self

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        """What the model reports as ``score`` for these outputs."""
        return outputs


@dataclass(frozen=True)
class Logistic(Loss):
    """Cross-entropy of ``sigmoid(output)`` against 0/1 labels."""

    name = "logistic"

    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = outputs[..., 0]
        y = labels[:, None]
        return np.logaddexp(0.0, z) - y * z, (expit(z) - y)[..., None]

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        return expit(outputs)


@dataclass(frozen=True)
class Hinge(Loss):
    """``max(0, margin - s * output)`` with ``s`` = +1/-1 for labels 1/0."""

    margin: float = 1.0
    name = "hinge_loss"

    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = outputs[..., 0]
        sign = (2.0 * labels - 1.0)[:, None]
        slack = self.margin - sign * z
        return np.maximum(slack, 0.0), np.where(slack > 0, -sign, 0.0)[..., None]


@dataclass(frozen=True)
class Softmax(Loss):
    """Multiclass cross-entropy of ``softmax(outputs)`` against integer labels."""

    name = "softmax_loss"

    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        classes = labels.astype(np.int64)
        shifted = outputs - outputs.max(axis=2, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        rows = np.arange(len(classes))
        value = -log_p[rows, :, classes]
        gradient = np.exp(log_p)
        gradient[rows, :, classes] -= 1.0
        return value, gradient

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        return softmax(outputs, axis=-1)


class _Regression(Loss):
    """A loss of the residual ``output - label``."""

    #: The dataclass fields that are lengths in label units.
    lengths: tuple[str, ...] = ()

    def __call__(self, outputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, gradient = self.of_residual(outputs[..., 0] - labels[:, None])
        return value, gradient[..., None]

    @abstractmethod
    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Loss and derivative at each residual."""

    def rescaled(self, scale: float) -> Loss:
        changes: dict[str, Any] = {name: getattr(self, name) / scale for name in self.lengths}
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class Squared(_Regression):
    name = "squared_loss"
    power = 2

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return residual**2, 2.0 * residual


@dataclass(frozen=True)
class Absolute(_Regression):
    name = "absolute_loss"

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.abs(residual), np.sign(residual)


@dataclass(frozen=True)
class EpsInsensitiveSquared(_Regression):
    loss_insensitivity: float = 0.01
    name = "eps_insensitive_squared_loss"
    power = 2
    lengths = ("loss_insensitivity",)

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        excess = np.maximum(np.abs(residual) - self.loss_insensitivity, 0.0)
        return excess**2, 2.0 * excess * np.sign(residual)


@dataclass(frozen=True)
class EpsInsensitiveAbsolute(_Regression):
    loss_insensitivity: float = 0.01
    name = "eps_insensitive_absolute_loss"
    lengths = ("loss_insensitivity",)

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        excess = np.abs(residual) - self.loss_insensitivity
        return np.maximum(excess, 0.0), np.where(excess > 0, np.sign(residual), 0.0)


@dataclass(frozen=True)
class Quantile(_Regression):
    """Pinball loss: the prediction undershoots the label with probability ``quantile``."""

    quantile: float = 0.5
    name = "quantile_loss"

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        under = residual < 0
        value = np.where(under, -self.quantile * residual, (1.0 - self.quantile) * residual)
        return value, np.where(under, -self.quantile, 1.0 - self.quantile)


@dataclass(frozen=True)
class Huber(_Regression):
    huber_delta: float = 1.0
    name = "huber_loss"
    power = 2
    lengths = ("huber_delta",)

    def of_residual(self, residual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = np.abs(residual)
        value = np.where(size <= self.huber_delta, 0.5 * residual**2, self.huber_delta * (size - 0.5 * self.huber_delta))
        return value, np.clip(residual, -self.huber_delta, self.huber_delta)


LOSSES: dict[str, type[Loss]] = {
    loss.name: loss
    for loss in (
        Logistic,
        Hinge,
        Softmax,
        Squared,
        Absolute,
        EpsInsensitiveSquared,
        EpsInsensitiveAbsolute,
        Quantile,
        Huber,
    )
}


def make_loss(name: str, hyperparameters: Mapping[str, Any]) -> Loss:
    """The loss called ``name``, its parameters (``margin``, ``huber_delta``, ...) taken from ``hyperparameters``."""
    kind = LOSSES[name]
    return kind(**{field.name: hyperparameters[field.name] for field in dataclasses.fields(kind)})  # type: ignore[arg-type]


def loss_parameters(loss: Loss) -> dict[str, float]:
    """The parameters of ``loss``, by hyperparameter name."""
    return dataclasses.asdict(loss)  # type: ignore[call-overload]
