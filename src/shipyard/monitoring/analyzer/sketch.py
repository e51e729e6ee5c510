"""A KLL quantile sketch, in the form ``statistics.json`` stores it.

Model Monitor records each numeric feature's distribution as a KLL sketch (Karnin, Lang,
Liberty: "Optimal quantile approximation in streams"): ``parameters`` ``{"c", "k"}`` and
``data``, a list of compactors; an item in compactor ``h`` stands for ``2**h`` values. While
a feature has no more than ``k`` values nothing is compacted, so the sketch holds every
value and its CDF is exact; past that, each compaction keeps every other item of a sorted
compactor and promotes it one level, and ranks are within about ``n / k`` of the truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Model Monitor's sketch parameters.
DEFAULT_K = 2048
DEFAULT_C = 0.64


@dataclass
class KllSketch:
    """A KLL sketch; ``compactors[h]`` holds items of weight ``2**h``."""

    k: int = DEFAULT_K
    c: float = DEFAULT_C
    compactors: list[list[float]] = field(default_factory=lambda: [[]])
    #: Alternates which half a compaction keeps (deterministic, so runs repeat exactly).
    _flip: int = 0

    def update(self, values: Iterable[float]) -> None:
        """Add ``values`` (finite floats) to the sketch."""
        array = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)
        for chunk in _chunks(array, self.k):
            self.compactors[0].extend(chunk.tolist())
            while self._size() > self._capacity_total():
                self._compress()

    @property
    def count(self) -> int:
        """How many values the sketch stands for."""
        return sum(len(items) << level for level, items in enumerate(self.compactors))

    def cdf(self, points: Sequence[float] | np.ndarray) -> np.ndarray:
        """The fraction of values ``<= x`` for each ``x`` of ``points``."""
        points = np.asarray(points, dtype=float)
        total = self.count
        if total == 0:
            return np.zeros(points.shape)
        ranks = np.zeros(points.shape)
        for level, items in enumerate(self.compactors):
            if items:
                ranks += np.searchsorted(np.sort(np.asarray(items, dtype=float)), points, side="right") * (1 << level)
        return ranks / total

    def items(self) -> np.ndarray:
        """Every value the sketch keeps (of any weight)."""
        kept = [value for items in self.compactors for value in items]
        return np.asarray(kept, dtype=float)

    def buckets(self, low: float, high: float, count: int = 10) -> list[dict[str, float]]:
        """``count`` equal-width buckets between ``low`` and ``high`` with the number of
        values in each (the last bucket holds ``high``); one bucket when ``low == high``."""
        if self.count == 0:
            return []
        if not high > low:
            return [{"lower_bound": low, "upper_bound": high, "count": float(self.count)}]
        edges = np.linspace(low, high, count + 1)
        below = np.zeros(count + 1)
        for level, items in enumerate(self.compactors):
            if items:
                ordered = np.sort(np.asarray(items, dtype=float))
                below += np.searchsorted(ordered, edges, side="left") * (1 << level)
        below[-1] = self.count
        counts = np.diff(below)
        return [
            {"lower_bound": float(edges[index]), "upper_bound": float(edges[index + 1]), "count": float(counts[index])}
            for index in range(count)
        ]

    def to_json(self) -> dict:
        """The sketch as ``statistics.json`` writes it."""
        return {"parameters": {"c": self.c, "k": float(self.k)}, "data": [list(items) for items in self.compactors]}

    @classmethod
    def from_json(cls, document: dict) -> KllSketch:
        """A sketch from ``statistics.json``'s ``distribution.kll.sketch``."""
        parameters = document.get("parameters") or {}
        data = document.get("data") or [[]]
        return cls(
            k=int(parameters.get("k", DEFAULT_K)),
            c=float(parameters.get("c", DEFAULT_C)),
            compactors=[[float(value) for value in items] for items in data] or [[]],
        )

    def _capacity(self, level: int) -> int:
        height = len(self.compactors)
        return max(2, math.ceil(self.k * self.c ** (height - 1 - level)))

    def _capacity_total(self) -> int:
        return sum(self._capacity(level) for level in range(len(self.compactors)))

    def _size(self) -> int:
        return sum(len(items) for items in self.compactors)

    def _compress(self) -> None:
        for level, items in enumerate(self.compactors):
            if len(items) < self._capacity(level):
                continue
            if level + 1 == len(self.compactors):
                self.compactors.append([])
            ordered = sorted(items)
            keep_one = [ordered.pop()] if len(ordered) % 2 else []
            self._flip ^= 1
            self.compactors[level + 1].extend(ordered[self._flip :: 2])
            self.compactors[level] = keep_one
            return


def _chunks(values: np.ndarray, size: int) -> Iterable[np.ndarray]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def linf_distance(first: KllSketch, second: KllSketch) -> float:
    """The L-infinity distance between the two sketches' CDFs (the two-sample
    Kolmogorov-Smirnov statistic when both hold every value)."""
    if first.count == 0 or second.count == 0:
        return 0.0
    points = np.unique(np.concatenate([first.items(), second.items()]))
    return float(np.max(np.abs(first.cdf(points) - second.cdf(points))))
