"""Extended statistics (trimmed and winsorized means, trimmed counts and sums, percentile
ranks, IQM): how their names parse, and their values from a sketch against NumPy's on the
samples themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from shipyard.monitoring.extended_statistics import (
    ExtendedStatistic,
    extended_statistic,
)
from shipyard.monitoring.metric_store import Aggregate
from shipyard.monitoring.statistics import is_statistic, needs_sketch


def trimmed(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """The samples ranked from fraction ``low`` to ``high`` (whole samples: n is a multiple of 100)."""
    ordered = np.sort(values)
    return ordered[round(low * len(values)) : round(high * len(values))]


def winsorized(values: np.ndarray, low: float, high: float) -> np.ndarray:
    ordered = np.sort(values)
    first, last = round(low * len(values)), round(high * len(values)) - 1
    return np.clip(ordered, ordered[first], ordered[last])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tm90", ExtendedStatistic("tm", 0.0, 0.9, by_rank=True)),
        ("TM(10%:90%)", ExtendedStatistic("tm", 0.1, 0.9, by_rank=True)),
        ("TM(2.5%:)", ExtendedStatistic("tm", 0.025, 1.0, by_rank=True)),
        ("TM(150:1000)", ExtendedStatistic("tm", 150.0, 1000.0, by_rank=False)),
        ("IQM", ExtendedStatistic("tm", 0.25, 0.75, by_rank=True)),
        ("wm98", ExtendedStatistic("wm", 0.0, 0.98, by_rank=True)),
        ("tc90", ExtendedStatistic("tc", 0.0, 0.9, by_rank=True)),
        ("TS(:80%)", ExtendedStatistic("ts", 0.0, 0.8, by_rank=True)),
        ("PR(:300)", ExtendedStatistic("pr", -math.inf, 300.0, by_rank=False)),
        ("PR(-5:0.5)", ExtendedStatistic("pr", -5.0, 0.5, by_rank=False)),
        ("p99.9", ExtendedStatistic("p", 0.0, 0.999, by_rank=True)),
    ],
)
def test_names_parse(name: str, expected: ExtendedStatistic) -> None:
    found = extended_statistic(name)
    assert found is not None and (found.kind, found.by_rank) == (expected.kind, expected.by_rank)
    assert (found.lower, found.upper) == pytest.approx((expected.lower, expected.upper))
    assert is_statistic(name) and needs_sketch(name)


@pytest.mark.parametrize(
    "name",
    ["tm", "tm101", "TM()", "TM(:)", "TM(90%:10%)", "TM(5:5)", "TM(10%:500)", "PR(10%:90%)", "XY(1:2)", "Average2", "p101"],
)
def test_malformed_names_are_no_statistic(name: str) -> None:
    assert extended_statistic(name) is None and not is_statistic(name)


def test_standard_statistics_read_no_sketch() -> None:
    assert is_statistic("Average") and not needs_sketch("Average")


@pytest.mark.parametrize(
    "values",
    [
        np.random.default_rng(1).lognormal(3, 1.2, 10_000),
        np.random.default_rng(2).normal(0, 40, 10_000),  # negatives, zero crossings
        np.random.default_rng(3).integers(0, 50, 2_000).astype(float),  # ties and zeros
    ],
    ids=["lognormal", "normal", "integers"],
)
def test_values_match_numpy_within_the_sketch_accuracy(values: np.ndarray) -> None:
    aggregate, n = Aggregate.of_values(values), len(values)
    spread = float(np.abs(values).mean())  # what a 1 % error of each sample amounts to

    def check(name: str, exact: float, per: float = 1) -> None:
        estimate = extended_statistic(name).value(aggregate) / per
        assert estimate == pytest.approx(exact / per, rel=0.01, abs=0.01 * spread), (name, estimate, exact)

    check("tm90", trimmed(values, 0, 0.9).mean())
    check("TM(10%:90%)", trimmed(values, 0.1, 0.9).mean())
    check("IQM", trimmed(values, 0.25, 0.75).mean())
    check("ts90", trimmed(values, 0, 0.9).sum(), per=n)  # per sample, to compare on one scale
    check("wm98", winsorized(values, 0, 0.98).mean())
    check("WM(10%:90%)", winsorized(values, 0.1, 0.9).mean())
    # Counts by rank are exact (they need no value), fractional where a cut falls in a tie.
    assert extended_statistic("tc90").value(aggregate) == pytest.approx(0.9 * n)
    assert extended_statistic("TC(10%:90%)").value(aggregate) == pytest.approx(0.8 * n)
    # Untrimmed, the sum and mean are the exact ones.
    assert extended_statistic("tm100").value(aggregate) == pytest.approx(values.mean(), rel=1e-12, abs=1e-12)


def test_value_bounds_exclude_the_lower_and_include_the_upper() -> None:
    values = np.array([100.0] * 5 + [300.0] * 3 + [2000.0] * 2)
    aggregate = Aggregate.of_values(values)
    assert extended_statistic("PR(:300)").value(aggregate) == pytest.approx(80.0)
    assert extended_statistic("PR(100:300)").value(aggregate) == pytest.approx(30.0)
    assert extended_statistic("PR(100:)").value(aggregate) == pytest.approx(50.0)
    assert extended_statistic("TC(100:300)").value(aggregate) == pytest.approx(3.0)
    assert extended_statistic("TM(100:300)").value(aggregate) == pytest.approx(300.0, rel=0.01)
    assert extended_statistic("TS(:300)").value(aggregate) == pytest.approx(1400.0, rel=0.01)
    # Winsorized: what lies beyond a bound counts as the bound.
    assert extended_statistic("WM(150:1000)").value(aggregate) == pytest.approx((5 * 150 + 3 * 300 + 2 * 1000) / 10, rel=0.01)
    # No sample within the bounds: no mean, a zero count.
    assert extended_statistic("TM(2000:3000)").value(aggregate) is None
    assert extended_statistic("TC(2000:3000)").value(aggregate) == 0.0


def test_a_period_without_a_sketch_has_none() -> None:
    unsketched = Aggregate(2, 3.0, 1.0, 2.0, None)
    assert all(extended_statistic(name).value(unsketched) is None for name in ("tm90", "PR(:1)", "tc90", "p50"))
    # A statistic set of equal samples has a sketch, as for percentiles.
    equal = Aggregate.of_statistics(4, 20.0, 5.0, 5.0)
    assert extended_statistic("PR(:5)").value(equal) == 100.0
    assert extended_statistic("tm90").value(equal) == 5.0
