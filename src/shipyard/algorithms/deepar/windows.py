"""Fixed-length windows cut from series: what the network sees for one forecast.

A window for a forecast starting at series position ``s`` covers ``[s - history, s +
prediction_length)``, where ``history`` is the context plus the longest lag, so that every
unrolled step can read its lagged values. Positions before the series start are padding:
NaN targets (unobserved), zero dynamic features, real calendar dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shipyard.algorithms.deepar.frequency import Frequency
from shipyard.algorithms.deepar.series import Series


@dataclass(frozen=True)
class Layout:
    """The geometry of a model's windows."""

    frequency: Frequency
    context_length: int
    prediction_length: int
    lags: tuple[int, ...]

    @property
    def history(self) -> int:
        """Window positions before the forecast start: the context and the longest lag before it."""
        return self.context_length + max(self.lags)

    @property
    def length(self) -> int:
        return self.history + self.prediction_length

    @property
    def unrolled(self) -> range:
        """Window indices the network steps through: the context, then the forecast."""
        return range(max(self.lags), self.length)


@dataclass(frozen=True)
class Padded:
    """A series laid out for windows: index ``i`` holds series position ``i - history``.

    The window of a forecast from series position ``s`` is ``[s, s + layout.length)`` here.
    """

    target: np.ndarray
    time_features: np.ndarray
    dynamic_feat: np.ndarray
    cat: tuple[int, ...]

    @classmethod
    def of(cls, series: Series, layout: Layout, *, future: bool) -> Padded:
        """``series`` padded before its start; with ``future``, also ``prediction_length`` unknown
        values after its end (its ``dynamic_feat`` must already cover them)."""
        extra = layout.prediction_length if future else 0
        length = layout.history + len(series) + extra
        target = np.full(length, np.nan, dtype=np.float32)
        target[layout.history : layout.history + len(series)] = series.target
        dates = layout.frequency.dates(series.start, length, first=-layout.history)
        dynamic = np.zeros((length, series.num_dynamic_feat), dtype=np.float32)
        if series.dynamic_feat is not None:
            dynamic[layout.history :] = series.dynamic_feat.T
        return cls(target, layout.frequency.time_features(dates), dynamic, series.cat)


@dataclass(frozen=True)
class Batch:
    """Windows stacked: ``target`` (B, W), ``time_features`` (B, W, n), ``dynamic_feat`` (B, W, d), ``cat`` (B, c)."""

    target: np.ndarray
    time_features: np.ndarray
    dynamic_feat: np.ndarray
    cat: np.ndarray

    @classmethod
    def of(cls, padded: Sequence[Padded], starts: Sequence[int], layout: Layout) -> Batch:
        """The window of each forecast start ``starts[i]`` of ``padded[i]``."""
        cuts = [slice(start, start + layout.length) for start in starts]
        return cls(
            target=np.stack([item.target[cut] for item, cut in zip(padded, cuts, strict=True)]),
            time_features=np.stack([item.time_features[cut] for item, cut in zip(padded, cuts, strict=True)]),
            dynamic_feat=np.stack([item.dynamic_feat[cut] for item, cut in zip(padded, cuts, strict=True)]),
            cat=np.array([item.cat for item in padded], dtype=np.int64).reshape(len(padded), -1),
        )
