"""CloudWatch's extended statistics: percentiles (``p99``), trimmed mean (``tm90``,
``TM(10%:90%)``, ``TM(150:1000)``), interquartile mean (``IQM``), winsorized mean (``wm98``,
``WM(…)``), trimmed count (``tc90``, ``TC(…)``), trimmed sum (``ts90``, ``TS(…)``) and
percentile rank (``PR(:300)``, ``PR(100:2000)``).

All are estimated from a period's percentile sketch (see :mod:`shipyard.monitoring.histogram`),
so each sample counts at its bucket's value, within 1 % of its own; a period without a
sketch (``StatisticValues`` sets) has none of them.

Bounds are percentages of the samples (``10%``), cut between ranks, so a trimmed count can
be fractional as CloudWatch's is; or values, where the lower bound is excluded and the upper
one included (``PR(100:2000)`` counts ``100 < v <= 2000``). ``tm90`` is ``TM(:90%)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from shipyard.monitoring.histogram import percentile
from shipyard.monitoring.metric_store import Aggregate

_NUMBER = r"-?\d+(?:\.\d{1,10})?"
#: ``tm90``: the shorthand for an upper percentage bound.
_SHORTHAND = re.compile(r"(tm|wm|tc|ts)(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)", re.IGNORECASE)
#: ``TM(10%:90%)``, ``PR(:300)``: either bound may be left out, not both.
_BOUNDED = re.compile(rf"(tm|wm|tc|ts|pr)\(\s*({_NUMBER}%?)?\s*:\s*({_NUMBER}%?)?\s*\)", re.IGNORECASE)


@dataclass(frozen=True)
class ExtendedStatistic:
    """One parsed extended statistic: its kind and bounds."""

    #: ``p``, ``tm``, ``wm``, ``tc``, ``ts`` or ``pr``.
    kind: str
    #: Fractions of the samples (0..1) where ``by_rank``, else values; ``p`` keeps its fraction in ``upper``.
    lower: float
    upper: float
    by_rank: bool

    @property
    def is_percentile(self) -> bool:
        return self.kind == "p"

    def value(self, aggregate: Aggregate) -> float | None:
        """The statistic of ``aggregate``'s samples; None where it has no sketch, or no
        sample falls between the bounds of a mean."""
        if self.is_percentile:
            return aggregate.percentile(self.upper)
        if aggregate.sketch is None or aggregate.sample_count <= 0:
            return None
        values, counts, edges = aggregate.sketch.buckets()
        # The extremes are known exactly: no estimate lies beyond them.
        values = np.clip(values, aggregate.minimum, aggregate.maximum)
        total = float(counts.sum())
        if self.by_rank:
            inside, below_edge, above_edge = _between_ranks(values, counts, self.lower * total, self.upper * total)
        else:
            inside, below_edge, above_edge = _between_values(edges, counts, self.lower, self.upper)
        count = float(inside.sum())
        if self.kind == "pr":
            return 100 * count / total
        if self.kind == "tc":
            return count
        everything = self.by_rank and self.lower <= 0 and self.upper >= 1
        trimmed_sum = aggregate.sum if everything else float((inside * values).sum())
        if self.kind == "ts":
            return trimmed_sum
        if self.kind == "tm":
            return trimmed_sum / count if count > 0 else None
        # wm: the samples beyond a bound count as the bound's edge value.
        (below, low_edge), (above, high_edge) = below_edge, above_edge
        return (trimmed_sum + below * low_edge + above * high_edge) / total


def _between_ranks(
    values: np.ndarray, counts: np.ndarray, low_rank: float, high_rank: float
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Each bucket's share of the samples ranked from ``low_rank`` to ``high_rank``, and
    (count, edge value) of the samples below and above them."""
    reached = np.cumsum(counts)
    before = reached - counts
    inside = np.clip(np.minimum(reached, high_rank) - np.maximum(before, low_rank), 0, None)
    last = len(values) - 1
    low_edge = values[min(int(np.searchsorted(reached, low_rank, side="right")), last)]
    high_edge = values[min(int(np.searchsorted(reached, high_rank, side="left")), last)]
    total = float(reached[-1])
    return inside, (low_rank, float(low_edge)), (total - high_rank, float(high_edge))


def _between_values(
    edges: np.ndarray, counts: np.ndarray, lower: float, upper: float
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """Each bucket's count if its samples are in ``(lower, upper]``, else 0, and (count,
    bound) of the samples below and above.

    A bucket that holds a bound counts as its samples equal to it would: in for the upper
    bound, out for the lower one. So samples at a bound (a latency of exactly 300 against
    ``PR(:300)``) are counted exactly, and only others within 2 % of a bound may be on the
    wrong side of it.
    """
    # By the buckets' lower edges: excluded for positive buckets, included for the others.
    positive = edges > 0
    above_lower = np.where(positive, edges >= lower, edges > lower)
    below_upper = np.where(positive, edges < upper, edges <= upper)
    inside = np.where(above_lower & below_upper, counts, 0.0)
    return inside, (float(counts[~above_lower].sum()), lower), (float(counts[~below_upper].sum()), upper)


@lru_cache(maxsize=1024)
def extended_statistic(name: str) -> ExtendedStatistic | None:
    """The statistic ``name`` spells (see the module's docstring); None if it spells none."""
    fraction = percentile(name)
    if fraction is not None:
        return ExtendedStatistic("p", 0.0, fraction, by_rank=True)
    if name == "IQM":
        return ExtendedStatistic("tm", 0.25, 0.75, by_rank=True)
    match = _SHORTHAND.fullmatch(name)
    if match:
        return ExtendedStatistic(match.group(1).lower(), 0.0, float(match.group(2)) / 100, by_rank=True)
    match = _BOUNDED.fullmatch(name)
    if not match:
        return None
    kind, low, high = match.group(1).lower(), match.group(2), match.group(3)
    if low is None and high is None:
        return None
    given = [bound for bound in (low, high) if bound is not None]
    by_rank = given[0].endswith("%")
    if any(bound.endswith("%") != by_rank for bound in given) or (by_rank and kind == "pr"):
        return None  # bounds of one kind; a percentile rank's are values
    if by_rank:
        lower = float(low[:-1]) / 100 if low else 0.0
        upper = float(high[:-1]) / 100 if high else 1.0
        if not 0 <= lower < upper <= 1:
            return None
    else:
        lower = float(low) if low else -math.inf
        upper = float(high) if high else math.inf
        if lower >= upper:
            return None
    return ExtendedStatistic(kind, lower, upper, by_rank)
