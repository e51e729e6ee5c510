"""The KLL sketch of statistics.json and the drift distances built on it, against scipy."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from shipyard.monitoring.analyzer.drift import categorical_drift, numeric_drift, robust
from shipyard.monitoring.analyzer.sketch import KllSketch, linf_distance


def sketch_of(values) -> KllSketch:
    sketch = KllSketch()
    sketch.update(values)
    return sketch


def test_a_small_sketch_keeps_every_value_and_its_cdf_is_exact():
    values = np.random.default_rng(0).normal(size=1500)
    sketch = sketch_of(values)
    assert sketch.count == 1500
    assert len(sketch.compactors) == 1
    points = np.linspace(-3, 3, 25)
    assert sketch.cdf(points).tolist() == [(values <= x).mean() for x in points]


@pytest.mark.parametrize("shift", [0.0, 0.1, 0.5, 2.0])
def test_the_distance_of_small_samples_is_the_ks_statistic(shift):
    rng = np.random.default_rng(1)
    first, second = rng.normal(size=800), rng.normal(shift, 1.0, size=300)
    distance = linf_distance(sketch_of(first), sketch_of(second))
    assert distance == pytest.approx(ks_2samp(first, second).statistic, abs=1e-12)


def test_ties_count_as_in_the_ks_statistic():
    first, second = np.repeat([1.0, 2.0, 3.0], [50, 30, 20]), np.repeat([1.0, 2.0, 3.0], [20, 30, 50])
    assert linf_distance(sketch_of(first), sketch_of(second)) == pytest.approx(ks_2samp(first, second).statistic)


def test_a_large_sketch_compacts_and_stays_within_its_error():
    rng = np.random.default_rng(2)
    first, second = rng.normal(size=200_000), rng.normal(0.3, 1.2, size=150_000)
    big, other = sketch_of(first), sketch_of(second)
    assert big.count == 200_000 and other.count == 150_000
    assert len(big.compactors) > 1
    assert len(big.items()) < 20_000  # far fewer items than values
    exact = ks_2samp(first, second).statistic
    assert abs(linf_distance(big, other) - exact) < 0.01
    quartiles = np.quantile(first, [0.25, 0.5, 0.75])
    assert big.cdf(quartiles) == pytest.approx([0.25, 0.5, 0.75], abs=0.01)


def test_the_sketch_round_trips_through_json():
    sketch = sketch_of(np.random.default_rng(3).exponential(size=10_000))
    document = json.loads(json.dumps(sketch.to_json()))
    assert document["parameters"] == {"c": 0.64, "k": 2048.0}
    again = KllSketch.from_json(document)
    assert again.count == sketch.count
    points = np.linspace(0, 5, 11)
    assert again.cdf(points).tolist() == sketch.cdf(points).tolist()


def test_buckets_split_min_to_max_in_ten_and_count_like_numpy():
    values = np.random.default_rng(4).integers(0, 100, 999).astype(float)
    buckets = sketch_of(values).buckets(values.min(), values.max())
    expected, edges = np.histogram(values, bins=10, range=(values.min(), values.max()))
    assert [bucket["count"] for bucket in buckets] == expected.tolist()
    assert [bucket["upper_bound"] for bucket in buckets] == pytest.approx(edges[1:].tolist())
    assert sketch_of([5.0, 5.0]).buckets(5.0, 5.0) == [{"lower_bound": 5.0, "upper_bound": 5.0, "count": 2.0}]


def test_simple_drift_is_the_distance_and_robust_subtracts_the_ks_critical_term():
    rng = np.random.default_rng(5)
    first, second = rng.normal(size=400), rng.normal(0.6, 1.0, size=100)
    statistic = ks_2samp(first, second).statistic
    simple = numeric_drift(sketch_of(first), sketch_of(second), "Simple", 0.1)
    assert simple.value == pytest.approx(statistic) and simple.violated
    corrected = numeric_drift(sketch_of(first), sketch_of(second), "Robust", 0.1)
    assert corrected.value == pytest.approx(statistic - 1.8 * np.sqrt(500 / 40_000))
    assert robust(0.05, 100, 100) == 0.0


def test_robust_drift_forgives_a_small_sample_that_simple_flags():
    rng = np.random.default_rng(6)
    first, second = rng.normal(size=300), rng.normal(size=20)
    assert numeric_drift(sketch_of(first), sketch_of(second), "Simple", 0.1).violated
    assert not numeric_drift(sketch_of(first), sketch_of(second), "Robust", 0.1).violated


def test_categorical_linfinity_is_the_largest_frequency_difference():
    baseline, current = Counter(a=50, b=30, c=20), Counter(a=20, b=30, d=10)
    drift = categorical_drift(baseline, current, "LInfinity", "Simple", 0.1)
    assert drift.value == pytest.approx(max(abs(0.5 - 20 / 60), abs(0.3 - 0.5), 0.2, 10 / 60))
    assert drift.violated
    same = categorical_drift(baseline, Counter(a=500, b=300, c=200), "LInfinity", "Robust", 0.1)
    assert same.value == 0.0 and not same.violated


def test_categorical_chi_squared_compares_the_p_value():
    baseline, shifted = Counter(a=500, b=300, c=200), Counter(a=100, b=300, c=600)
    drift = categorical_drift(baseline, shifted, "ChiSquared", "Robust", 0.05)
    expected = chi2_contingency([[500, 300, 200], [100, 300, 600]], correction=False).pvalue
    assert drift.value == pytest.approx(expected) and drift.violated
    alike = categorical_drift(baseline, Counter(a=51, b=29, c=20), "ChiSquared", "Robust", 0.05)
    assert alike.value > 0.5 and not alike.violated
