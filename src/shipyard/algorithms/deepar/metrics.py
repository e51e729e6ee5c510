"""Forecast accuracy as DeepAR reports it on the test channel, and quantiles of sample paths."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def parse_quantiles(values: Iterable[object]) -> list[float]:
    """Quantile levels from strings or numbers; ValueError unless each is strictly between 0 and 1."""
    levels = []
    for value in values:
        try:
            level = float(str(value))
        except ValueError:
            raise ValueError(f"quantile {value!r} is not a number") from None
        if not 0 < level < 1:
            raise ValueError(f"quantile {value!r} must be between 0 and 1")
        levels.append(level)
    return levels


def quantiles(samples: np.ndarray, levels: Iterable[float]) -> np.ndarray:
    """The ``levels`` quantiles over the sample axis of ``samples`` (..., S, P): (len(levels), ..., P)."""
    return np.quantile(samples, list(levels), axis=-2)


def score_forecasts(truth: np.ndarray, samples: np.ndarray, levels: list[float]) -> dict[str, float]:
    """DeepAR's test metrics of forecast ``samples`` (n, S, P) against ``truth`` (n, P; NaN unknown).

    ``RMSE`` of the sample mean; per level ``τ`` the quantile loss
    ``2 Σ |(y - q_τ)(1[y <= q_τ] - τ)|``, as ``wQuantileLoss[τ]`` divided by ``Σ |y|``;
    and their means ``mean_absolute_QuantileLoss`` and ``mean_wQuantileLoss``.
    """
    observed = ~np.isnan(truth)
    actual = truth[observed].astype(np.float64)
    mean = samples.mean(axis=1)[observed]
    scores = {"RMSE": float(np.sqrt(np.mean((mean - actual) ** 2)))}
    weight = np.abs(actual).sum() or 1.0
    absolute, weighted = {}, {}
    for level, forecast in zip(levels, quantiles(samples, levels), strict=True):
        predicted = forecast[observed]
        loss = 2 * np.abs((actual - predicted) * ((actual <= predicted) - level)).sum()
        absolute[level], weighted[level] = float(loss), float(loss / weight)
    scores["mean_absolute_QuantileLoss"] = float(np.mean(list(absolute.values())))
    scores["mean_wQuantileLoss"] = float(np.mean(list(weighted.values())))
    scores.update({f"wQuantileLoss[{level}]": value for level, value in weighted.items()})
    return scores
