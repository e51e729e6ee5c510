"""Distribution distances between a baseline and the current data, as Model Monitor defines them.

- Numeric features: the L-infinity distance between the two CDFs (from the KLL sketches;
  exact while they hold every value, when it equals the two-sample Kolmogorov-Smirnov
  statistic). ``Simple`` is that distance; ``Robust`` corrects it for small samples by
  subtracting the two-sample KS critical term, ``max(0, d - 1.8 * sqrt((n + m) / (n * m)))``.
- String features: ``LInfinity``, the largest difference between the two category
  frequency vectors (``Robust`` corrected alike); or ``ChiSquared``, Pearson's chi-squared
  test of the two category count vectors, whose p-value is compared instead of a distance.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from shipyard.monitoring.analyzer.sketch import KllSketch, linf_distance

#: The critical-value factor of the two-sample KS test Model Monitor's Robust method uses.
ROBUST_FACTOR = 1.8


@dataclass(frozen=True)
class Drift:
    """How far the current data moved from the baseline, and whether that is a violation."""

    #: The distance reported (a p-value for ChiSquared).
    value: float
    threshold: float
    method: str
    violated: bool


def robust(distance: float, n: float, m: float) -> float:
    """``distance`` corrected for the sample sizes ``n`` and ``m``."""
    if n <= 0 or m <= 0:
        return 0.0
    return max(0.0, distance - ROBUST_FACTOR * math.sqrt((n + m) / (n * m)))


def numeric_drift(baseline: KllSketch, current: KllSketch, method: str, threshold: float) -> Drift:
    """The drift of a numeric feature (``method`` ``Simple`` or ``Robust``)."""
    distance = linf_distance(baseline, current)
    if method.lower() == "robust":
        distance = robust(distance, baseline.count, current.count)
    return Drift(distance, threshold, method, distance > threshold)


def categorical_drift(
    baseline: Counter[str], current: Counter[str], method: str, comparison_method: str, threshold: float
) -> Drift:
    """The drift of a string feature (``method`` ``LInfinity`` or ``ChiSquared``)."""
    n, m = sum(baseline.values()), sum(current.values())
    if n <= 0 or m <= 0:
        return Drift(0.0, threshold, method, False)
    categories = sorted(set(baseline) | set(current))
    if method.lower() == "chisquared":
        table = [[baseline.get(value, 0) for value in categories], [current.get(value, 0) for value in categories]]
        if len(categories) < 2:
            return Drift(1.0, threshold, method, False)
        # Imported here: scipy.stats takes a fifth of a second to import.
        from scipy.stats import chi2_contingency

        p_value = float(chi2_contingency(table, correction=False).pvalue)
        return Drift(p_value, threshold, method, p_value < threshold)
    distance = max(abs(baseline.get(value, 0) / n - current.get(value, 0) / m) for value in categories)
    if comparison_method.lower() == "robust":
        distance = robust(distance, n, m)
    return Drift(distance, threshold, method, distance > threshold)
