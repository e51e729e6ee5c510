"""A mergeable percentile sketch of a metric's samples, as CloudWatch keeps for percentiles.

Samples fall into logarithmic buckets (the DDSketch scheme): bucket ``i`` holds the values
in ``(γ^(i-1), γ^i]`` with ``γ = (1 + α) / (1 - α)``, so any value estimated from its
bucket is within a relative error ``α`` (:data:`RELATIVE_ACCURACY`, 1 %) of the true one.
Negative values have buckets of their own, zero a counter. Sketches of two minutes merge
by adding counts, which is what makes them storable per minute and summable over periods.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The relative error of every percentile estimated from a sketch.
RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
#: Buckets a sketch keeps per sign; the smallest magnitudes fold together beyond it.
MAX_BUCKETS = 2048
#: Magnitudes below this count as zero (CloudWatch's smallest accepted value is ~8.5e-109).
_TINY = 1e-300

#: ``p`` and a percentile from 0 to 100: ``p50``, ``p99.9``, ``p100``.
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)")


def percentile(name: str) -> float | None:
    """The fraction 0..1 that the statistic ``name`` (``"p99.9"``) names; None if it names none."""
    match = PERCENTILE.fullmatch(name)
    return float(match.group(1)) / 100 if match else None


def _index(magnitude: float) -> int:
    return math.ceil(math.log(magnitude) / _LOG_GAMMA)


def _value(index: Any) -> Any:
    """The estimate of bucket ``index`` (an int, or an array of them): the bucket's point
    whose relative distance to both ends is at most α."""
    return 2 * np.power(_GAMMA, index) / (_GAMMA + 1)


class _Buckets:
    """Counts of one sign's buckets, dense from bucket index ``low`` on."""

    __slots__ = ("counts", "low")

    def __init__(self, low: int = 0, counts: np.ndarray | None = None) -> None:
        self.low = low
        self.counts = np.zeros(0) if counts is None else counts

    @property
    def total(self) -> float:
        return float(self.counts.sum())

    def add(self, index: int, count: float) -> None:
        self._cover(index, index)
        self.counts[index - self.low] += count

    def merge(self, other: _Buckets) -> None:
        size = len(other.counts)
        if size:
            self._cover(other.low, other.low + size - 1)
            start = other.low - self.low
            self.counts[start : start + size] += other.counts

    def copy(self) -> _Buckets:
        return _Buckets(self.low, self.counts.copy())

    def fold(self) -> None:
        # Past MAX_BUCKETS the smallest magnitudes share one bucket (their accuracy goes).
        excess = len(self.counts) - MAX_BUCKETS
        if excess > 0:
            self.counts[excess] += self.counts[:excess].sum()
            self.counts = self.counts[excess:].copy()
            self.low += excess

    def trimmed(self) -> tuple[int, np.ndarray]:
        """The lowest non-empty index and the counts from it to the highest non-empty one."""
        present = np.flatnonzero(self.counts)
        if not len(present):
            return 0, self.counts[:0]
        return self.low + int(present[0]), self.counts[present[0] : present[-1] + 1]

    def _cover(self, low: int, high: int) -> None:
        size = len(self.counts)
        if size and low >= self.low and high < self.low + size:
            return
        new_low = min(low, self.low) if size else low
        new_high = max(high, self.low + size - 1) if size else high
        counts = np.zeros(new_high - new_low + 1)
        counts[self.low - new_low : self.low - new_low + size] = self.counts
        self.low, self.counts = new_low, counts


class Sketch:
    """Counts of samples per logarithmic bucket (see the module's docstring)."""

    __slots__ = ("negative", "positive", "zero")

    def __init__(self) -> None:
        self.positive = _Buckets()
        self.negative = _Buckets()
        self.zero = 0.0

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray, counts: Sequence[float] | np.ndarray | None = None) -> Sketch:
        """A sketch of ``values``, each seen once or as often as ``counts`` says."""
        sketch = cls()
        array = np.asarray(values, dtype=float)
        weights = np.ones_like(array) if counts is None else np.asarray(counts, dtype=float)
        keep = weights > 0
        array, weights = array[keep], weights[keep]
        sketch.zero = float(weights[np.abs(array) <= _TINY].sum())
        for buckets, chosen in ((sketch.positive, array > _TINY), (sketch.negative, array < -_TINY)):
            if chosen.any():
                indexes = np.ceil(np.log(np.abs(array[chosen])) / _LOG_GAMMA).astype(np.int64)
                low = int(indexes.min())
                buckets.low, buckets.counts = low, np.bincount(indexes - low, weights=weights[chosen]).astype(float)
                buckets.fold()
        return sketch

    @property
    def count(self) -> float:
        return self.zero + self.positive.total + self.negative.total

    def add(self, value: float, count: float = 1.0) -> None:
        """Count ``value`` ``count`` times."""
        if count <= 0:
            return
        if value > _TINY:
            self.positive.add(_index(value), count)
            self.positive.fold()
        elif value < -_TINY:
            self.negative.add(_index(-value), count)
            self.negative.fold()
        else:
            self.zero += count

    def merge(self, other: Sketch) -> None:
        """Add ``other``'s counts to this sketch's."""
        self.positive.merge(other.positive)
        self.negative.merge(other.negative)
        self.zero += other.zero
        self.positive.fold()
        self.negative.fold()

    def copy(self) -> Sketch:
        sketch = Sketch()
        sketch.positive, sketch.negative, sketch.zero = self.positive.copy(), self.negative.copy(), self.zero
        return sketch

    def quantile(self, q: float) -> float | None:
        """The value below which a fraction ``q`` (0..1) of the samples lie; None if empty.

        The rank is ``q * (n - 1)`` (NumPy's default), and the answer is the estimate of
        the sample at that rank, within :data:`RELATIVE_ACCURACY` of it.
        """
        total = self.count
        if total <= 0:
            return None
        rank = q * (total - 1)
        negative = self.negative.counts[::-1]  # the most negative values first
        seen = np.cumsum(negative)
        found = int(np.searchsorted(seen, rank, side="right"))
        if found < len(negative):
            return -float(_value(self.negative.low + len(negative) - 1 - found))
        below = (float(seen[-1]) if len(seen) else 0.0) + self.zero
        if below > rank:
            return 0.0
        positive = self.positive.counts
        found = int(np.searchsorted(below + np.cumsum(positive), rank, side="right"))
        present = np.flatnonzero(positive)
        if not len(present):
            return 0.0
        return float(_value(self.positive.low + min(found, int(present[-1]))))

    def buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every non-empty bucket, in ascending order: its estimated value, its count, and
        its lower edge (excluded for a positive bucket, included for a negative one; 0 for
        zero). The statistics beyond percentiles (trimmed means, percentile ranks...) are
        computed from them."""
        parts = []
        for buckets, sign in ((self.negative, -1.0), (self.positive, 1.0)):
            low, counts = buckets.trimmed()
            indexes = np.arange(low, low + len(counts))
            values = sign * _value(indexes)
            if sign > 0:
                parts.append((values, counts, np.power(_GAMMA, indexes - 1.0)))
            else:
                parts.append((values[::-1], counts[::-1], -np.power(_GAMMA, indexes[::-1].astype(float))))
        (negative, negative_counts, negative_edges), (positive, positive_counts, positive_edges) = parts
        values = np.concatenate([negative, [0.0], positive])
        counts = np.concatenate([negative_counts, [self.zero], positive_counts])
        edges = np.concatenate([negative_edges, [0.0], positive_edges])
        present = counts > 0
        return values[present], counts[present], edges[present]

    def to_json(self) -> str:
        """The form kept in ``metric_data.histogram``: per sign, the lowest bucket index
        followed by the counts of every bucket from there (``{"p": [i, c_i, c_i+1...], "n":
        [...], "z": zero count}``), which decodes fast."""
        return json.dumps(
            {"p": _dense(self.positive), "n": _dense(self.negative), "z": _number(self.zero)}, separators=(",", ":")
        )

    @classmethod
    def from_json(cls, text: str) -> Sketch:
        data = json.loads(text)
        sketch = cls()
        for buckets, dense in ((sketch.positive, data.get("p")), (sketch.negative, data.get("n"))):
            if dense:
                buckets.low, buckets.counts = int(dense[0]), np.array(dense[1:], dtype=float)
        sketch.zero = float(data.get("z", 0.0))
        return sketch

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sketch):
            return NotImplemented
        if self.zero != other.zero:
            return False
        for mine, theirs in ((self.positive, other.positive), (self.negative, other.negative)):
            (low, counts), (their_low, their_counts) = mine.trimmed(), theirs.trimmed()
            if len(counts) != len(their_counts) or (len(counts) and (low != their_low or not np.array_equal(counts, their_counts))):
                return False
        return True

    def __repr__(self) -> str:
        return f"Sketch(count={self.count})"


def _number(count: float) -> float | int:
    return int(count) if float(count).is_integer() else float(count)


def _dense(buckets: _Buckets) -> list[float | int]:
    low, counts = buckets.trimmed()
    return [low, *(_number(count) for count in counts.tolist())] if len(counts) else []
