"""The optimizers Linear Learner offers (``sgd`` with momentum, ``adam``, ``rmsprop``).

Each updates one parameter array in place, with a learning rate per column: the columns of
Linear Learner's weight matrix belong to different parallel models.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Optimizer(ABC):
    """Updates a parameter array from its gradient."""

    @abstractmethod
    def step(self, parameters: np.ndarray, gradient: np.ndarray, rates: np.ndarray) -> None:
        """Move ``parameters`` against ``gradient``; ``rates`` broadcasts over the last axis."""


class SGD(Optimizer):
    """Stochastic gradient descent with (heavy-ball) momentum."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.velocity: np.ndarray | None = None

    def step(self, parameters: np.ndarray, gradient: np.ndarray, rates: np.ndarray) -> None:
        if self.velocity is None:
            self.velocity = np.zeros_like(parameters)
        self.velocity *= self.momentum
        self.velocity -= rates * gradient
        parameters += self.velocity


class Adam(Optimizer):
    """Adam (Kingma & Ba), with bias-corrected moment estimates."""

    def __init__(self, beta_1: float, beta_2: float, epsilon: float = 1e-8) -> None:
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.first: np.ndarray | None = None
        self.second: np.ndarray | None = None
        self.steps = 0

    def step(self, parameters: np.ndarray, gradient: np.ndarray, rates: np.ndarray) -> None:
        if self.first is None or self.second is None:
            self.first, self.second = np.zeros_like(parameters), np.zeros_like(parameters)
        self.steps += 1
        self.first += (1.0 - self.beta_1) * (gradient - self.first)
        self.second += (1.0 - self.beta_2) * (gradient**2 - self.second)
        first = self.first / (1.0 - self.beta_1**self.steps)
        second = self.second / (1.0 - self.beta_2**self.steps)
        parameters -= rates * first / (np.sqrt(second) + self.epsilon)


class RMSProp(Optimizer):
    """RMSProp: steps scaled by a running root mean square of the gradient."""

    def __init__(self, decay: float = 0.9, epsilon: float = 1e-8) -> None:
        self.decay, self.epsilon = decay, epsilon
        self.mean_square: np.ndarray | None = None

    def step(self, parameters: np.ndarray, gradient: np.ndarray, rates: np.ndarray) -> None:
        if self.mean_square is None:
            self.mean_square = np.zeros_like(parameters)
        self.mean_square += (1.0 - self.decay) * (gradient**2 - self.mean_square)
        parameters -= rates * gradient / (np.sqrt(self.mean_square) + self.epsilon)


def make_optimizer(name: str, momentum: float, beta_1: float, beta_2: float) -> Optimizer:
    """The optimizer called ``name`` (``auto`` is already resolved)."""
    if name == "sgd":
        return SGD(momentum)
    if name == "adam":
        return Adam(beta_1, beta_2)
    if name == "rmsprop":
        return RMSProp()
    raise ValueError(f"unknown optimizer {name!r}")


def proximal_l1(parameters: np.ndarray, thresholds: np.ndarray) -> None:
    """Soft-threshold ``parameters`` in place: the proximal step of an L1 penalty."""
    np.copyto(parameters, np.sign(parameters) * np.maximum(np.abs(parameters) - thresholds, 0.0))
