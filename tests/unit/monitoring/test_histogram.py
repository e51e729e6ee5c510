"""The percentile sketch: estimates within its relative accuracy of NumPy's percentiles,
merging, its stored form, and percentiles through aggregates and datapoints."""

from __future__ import annotations

import numpy as np
import pytest

from shipyard.monitoring.histogram import (
    MAX_BUCKETS,
    RELATIVE_ACCURACY,
    Sketch,
    percentile,
)
from shipyard.monitoring.metric_store import Aggregate, MetricDatum, MetricKey
from shipyard.monitoring.statistics import datapoints

QUANTILES = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0)
KEY = MetricKey("us-east-1", "Shop", "Latency", ())


def close(estimate: float, exact: float, accuracy: float = 2 * RELATIVE_ACCURACY) -> bool:
    return abs(estimate - exact) <= accuracy * abs(exact) + 1e-9


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).lognormal(3, 1.5, 20_000),
        np.random.default_rng(2).normal(0, 50, 20_000),  # negatives, zero crossings
        np.random.default_rng(3).exponential(0.001, 5_000),
        np.random.default_rng(4).integers(0, 3, 3_000).astype(float),  # counts with many zeros
    ],
    ids=["lognormal", "normal", "exponential", "small-integers"],
)
def test_quantiles_are_within_the_documented_error_of_numpy(values: np.ndarray) -> None:
    sketch = Sketch.of(values.tolist())
    assert sketch.count == len(values)
    for q in QUANTILES:
        # The documented guarantee: within 1 % of the sample at rank q*(n-1) ...
        sample = float(np.percentile(values, q * 100, method="lower"))
        estimate = sketch.quantile(q)
        assert estimate is not None and close(estimate, sample, RELATIVE_ACCURACY), (q, estimate, sample)
        # ... and, away from zero where neighbours are close, within 2 % of NumPy's default.
        interpolated = float(np.percentile(values, q * 100))
        if abs(interpolated) > 1:
            assert close(estimate, interpolated), (q, estimate, interpolated)


def test_vectorized_and_one_by_one_sketches_agree() -> None:
    values = np.random.default_rng(5).lognormal(0, 3, 1000).tolist() + [0.0, -4.0]
    one_by_one = Sketch()
    for value in values:
        one_by_one.add(value)
    assert Sketch.of(values) == one_by_one
    weighted = Sketch.of([1.0, 2.0] * 10, [3.0, 0.0] * 10)
    assert weighted.count == 30 and weighted.quantile(1.0) == pytest.approx(1.0, rel=RELATIVE_ACCURACY)


def test_merged_sketches_equal_the_sketch_of_all_values() -> None:
    rng = np.random.default_rng(6)
    first, second = rng.gamma(2, 100, 3000), rng.gamma(5, 10, 2000)
    merged = Sketch.of(first.tolist())
    merged.merge(Sketch.of(second.tolist()))
    assert merged == Sketch.of(np.concatenate([first, second]).tolist())
    both = np.concatenate([first, second])
    assert close(merged.quantile(0.9), float(np.percentile(both, 90)))


def test_json_round_trip_and_empty_sketch() -> None:
    sketch = Sketch.of([0.0, 1.5, -2.0, 1e6])
    assert Sketch.from_json(sketch.to_json()) == sketch
    assert Sketch().quantile(0.5) is None


def test_bucket_count_is_bounded() -> None:
    sketch = Sketch.of([10.0**exponent for exponent in np.linspace(-250, 250, 30_000)])
    assert len(sketch.positive.counts) <= MAX_BUCKETS
    assert sketch.count == 30_000
    # The largest values keep their accuracy; only the smallest fold together.
    assert sketch.quantile(1.0) == pytest.approx(1e250, rel=RELATIVE_ACCURACY)


@pytest.mark.parametrize(
    ("name", "fraction"),
    [("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999), ("p0", 0.0), ("p100", 1.0), ("p99.99", 0.9999)],
)
def test_percentile_names(name: str, fraction: float) -> None:
    assert percentile(name) == pytest.approx(fraction)


@pytest.mark.parametrize("name", ["p", "p101", "P50", "p-1", "tm99", "p50.", "Average"])
def test_not_percentile_names(name: str) -> None:
    assert percentile(name) is None


def test_datapoint_percentiles_merge_minutes_and_clamp_to_the_extremes() -> None:
    rng = np.random.default_rng(7)
    minutes = [rng.lognormal(4, 1, 500) for _ in range(5)]
    data = [MetricDatum(KEY, n * 60_000, "Milliseconds", Aggregate.of_values(v.tolist())) for n, v in enumerate(minutes)]
    (point,) = datapoints(data, start_ms=0, period_ms=300_000)
    everything = np.concatenate(minutes)
    assert point.statistic("SampleCount") == 2500
    assert close(point.statistic("p90"), float(np.percentile(everything, 90)))
    assert point.statistic("p0") == everything.min()
    assert point.statistic("p100") == everything.max()
    # The per-minute data is left as it was.
    assert data[0].aggregate.sketch.count == 500


def test_statistic_sets_have_percentiles_only_when_all_samples_are_equal() -> None:
    equal = Aggregate.of_statistics(4, 20.0, 5.0, 5.0)
    assert equal.percentile(0.5) == 5.0
    spread = Aggregate.of_statistics(4, 20.0, 1.0, 9.0)
    assert spread.percentile(0.5) is None
    # Merged with sampled data, a set without a sketch leaves the period without percentiles.
    sampled = Aggregate.of_values([1.0, 2.0, 3.0])
    sampled.merge(spread)
    assert sampled.percentile(0.5) is None and sampled.sample_count == 7
