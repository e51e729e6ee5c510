"""DeepAR's noise models: network outputs -> a distribution over each next value.

The network sees series divided by their scale (mean absolute context value); each
likelihood maps its raw outputs back to the series' own scale, as in the DeepAR paper.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import Tensor, distributions
from torch.distributions import Distribution
from torch.nn.functional import softplus

_TINY = 1e-6


class Likelihood(ABC):
    """Maps ``raw`` network outputs (..., num_params) and ``scale`` (broadcastable to ...) to values."""

    num_params: int
    #: Whether targets are divided by the series' scale (not for Beta's (0, 1) values).
    scaled: bool = True

    @abstractmethod
    def loss(self, raw: Tensor, scale: Tensor, target: Tensor) -> Tensor:
        """The per-value training loss (negative log-likelihood, or L1)."""

    @abstractmethod
    def sample(self, raw: Tensor, scale: Tensor) -> Tensor:
        """One draw per value."""

    def check(self, target: np.ndarray) -> str | None:
        """Why observed ``target`` values cannot come from this likelihood, if they cannot."""
        return None


class _Parametric(Likelihood):
    @abstractmethod
    def distribution(self, raw: Tensor, scale: Tensor) -> Distribution:
        """The distribution the outputs describe."""

    def loss(self, raw: Tensor, scale: Tensor, target: Tensor) -> Tensor:
        return -self.distribution(raw, scale).log_prob(target)

    def sample(self, raw: Tensor, scale: Tensor) -> Tensor:
        return self.distribution(raw, scale).sample()


class Gaussian(_Parametric):
    num_params = 2

    def distribution(self, raw: Tensor, scale: Tensor) -> Distribution:
        return distributions.Normal(raw[..., 0] * scale, (softplus(raw[..., 1]) + _TINY) * scale, validate_args=False)


class StudentT(_Parametric):
    num_params = 3

    def distribution(self, raw: Tensor, scale: Tensor) -> Distribution:
        degrees = 2.0 + softplus(raw[..., 2])
        return distributions.StudentT(
            degrees, raw[..., 0] * scale, (softplus(raw[..., 1]) + _TINY) * scale, validate_args=False
        )


class NegativeBinomial(_Parametric):
    """Mean ``mu`` and shape ``alpha`` (variance ``mu + alpha mu^2``), scaled as the paper does."""

    num_params = 2

    def distribution(self, raw: Tensor, scale: Tensor) -> Distribution:
        mu = (softplus(raw[..., 0]) + _TINY) * scale
        alpha = (softplus(raw[..., 1]) + _TINY) / scale.sqrt()
        return distributions.NegativeBinomial(total_count=1.0 / alpha, logits=torch.log(mu * alpha), validate_args=False)

    def check(self, target: np.ndarray) -> str | None:
        observed = target[~np.isnan(target)]
        if (observed < 0).any() or not np.equal(np.round(observed), observed).all():
            return "the negative-binomial likelihood needs non-negative integer (count) targets"
        return None


class Beta(_Parametric):
    num_params = 2
    scaled = False

    def distribution(self, raw: Tensor, scale: Tensor) -> Distribution:
        return distributions.Beta(softplus(raw[..., 0]) + _TINY, softplus(raw[..., 1]) + _TINY, validate_args=False)

    def loss(self, raw: Tensor, scale: Tensor, target: Tensor) -> Tensor:
        return super().loss(raw, scale, target.clamp(_TINY, 1 - _TINY))

    def check(self, target: np.ndarray) -> str | None:
        observed = target[~np.isnan(target)]
        if (observed < 0).any() or (observed > 1).any():
            return "the beta likelihood needs targets between 0 and 1"
        return None


class DeterministicL1(Likelihood):
    """A point forecast trained on absolute error: every sample is the forecast."""

    num_params = 1

    def loss(self, raw: Tensor, scale: Tensor, target: Tensor) -> Tensor:
        return (raw[..., 0] - target / scale).abs()

    def sample(self, raw: Tensor, scale: Tensor) -> Tensor:
        return raw[..., 0] * scale


#: SageMaker's ``likelihood`` values.
LIKELIHOODS: dict[str, type[Likelihood]] = {
    "gaussian": Gaussian,
    "student-T": StudentT,
    "negative-binomial": NegativeBinomial,
    "beta": Beta,
    "deterministic-L1": DeterministicL1,
}
