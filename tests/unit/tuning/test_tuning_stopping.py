"""The early-stopping rules on hand-made histories."""

from __future__ import annotations

import pytest

from shipyard.tuning.stopping import hyperband_rule, median_rule
from shipyard.tuning.trials import Trial


def _trial(number: int, *values: float, status: str = "InProgress") -> Trial:
    return Trial(number, {"x": str(number)}, status, values[-1] if values else None, tuple(values))


# Running averages up to step 2: 1.5, 2.5, 3.5 (median 2.5); trial 4 has only one value.
EARLIER = [
    _trial(1, 2.0, 1.0, 0.5, status="Completed"),
    _trial(2, 3.0, 2.0, status="Completed"),
    _trial(3, 4.0, 3.0, 9.0, status="Stopped"),
    _trial(4, 0.1),
]


@pytest.mark.parametrize(
    ("latest", "minimize", "stopped"),
    [
        (2.6, True, True),  # worse than the median 2.5 when minimizing
        (2.5, True, False),  # equal is not worse
        (2.4, True, False),
        (2.4, False, True),  # worse when maximizing
        (2.6, False, False),
    ],
)
def test_median_rule_compares_latest_value_with_median_of_running_averages(
    latest: float, minimize: bool, stopped: bool
) -> None:
    # Its first value does not matter: only the latest one (step 2) is compared.
    assert median_rule(_trial(5, 100.0, latest), EARLIER, minimize) is stopped


def test_median_rule_uses_only_earlier_trials_that_got_as_far() -> None:
    # At step 3 only trials 1 and 3 logged 3 values: too few to judge.
    assert median_rule(_trial(5, 100.0, 100.0, 100.0), EARLIER, True) is False
    # Later trials (higher numbers) are not compared with.
    assert median_rule(_trial(0, 100.0, 100.0), EARLIER, True) is False
    # At step 1 trials 1 to 4 count: averages 2, 3, 4, 0.1, median 2.5.
    assert median_rule(_trial(5, 2.6), EARLIER, True) is True
    assert median_rule(_trial(5, 2.4), EARLIER, True) is False


def test_median_rule_needs_three_trials_and_a_value() -> None:
    assert median_rule(_trial(5), EARLIER, True) is False
    assert median_rule(_trial(5, 100.0, 100.0), EARLIER[:2], True) is False
    assert median_rule(_trial(3, 100.0, 100.0), EARLIER[:2] + [_trial(5, 1.0, 1.0)], True) is False


def test_median_rule_ignores_the_trial_itself() -> None:
    mine = _trial(5, 100.0, 100.0)
    assert median_rule(mine, EARLIER[:2] + [mine], True) is False


# Hyperband with min_resource 1, max_resource 9, eta 3: rungs at steps 1, 3 and 9.
def _rungs_of(values_at_3: list[float]) -> list[Trial]:
    return [_trial(n, 0.0, 0.0, value) for n, value in enumerate(values_at_3, start=1)]


@pytest.mark.parametrize(
    ("mine", "minimize", "stopped"),
    [
        (0.5, True, False),  # the best of 6: in the top third
        (2.0, True, False),  # second best of 6: top third is 2 trials
        (2.5, True, True),
        (4.0, False, False),  # maximizing: the 2 largest are 5 and 4
        (3.9, False, True),
    ],
)
def test_hyperband_keeps_the_top_third_at_a_rung(mine: float, minimize: bool, stopped: bool) -> None:
    others = _rungs_of([1.0, 2.0, 3.0, 4.0, 5.0])
    assert hyperband_rule(_trial(6, 0.0, 0.0, mine), others, minimize, 1, 9) is stopped


def test_hyperband_keeps_ties_and_small_rungs() -> None:
    others = _rungs_of([1.0, 1.0, 1.0, 1.0, 1.0])
    assert hyperband_rule(_trial(6, 0.0, 0.0, 1.0), others, True, 1, 9) is False
    # Fewer than eta trials at the rung: kept whatever its value.
    assert hyperband_rule(_trial(6, 0.0, 0.0, 99.0), _rungs_of([1.0]), True, 1, 9) is False


def test_hyperband_judges_the_highest_rung_reached() -> None:
    others = _rungs_of([1.0, 2.0, 3.0, 4.0, 5.0])
    # Between rungs 3 and 9 a trial is judged at rung 3 (its third value), not by its latest value.
    assert hyperband_rule(_trial(6, 0.0, 0.0, 9.0, 0.0, 0.0), others, True, 1, 9) is True
    assert hyperband_rule(_trial(6, 0.0, 0.0, 1.5, 50.0), others, True, 1, 9) is False
    # Before its first rung a trial is never stopped.
    assert hyperband_rule(_trial(6, 99.0), others, True, 2, 9) is False
    # At rung 1: its first value against the others' first values (all 0.0, ties kept).
    assert hyperband_rule(_trial(6, 0.0), others, True, 1, 9) is False
    assert hyperband_rule(_trial(6, 0.1), others, True, 1, 9) is True


def test_hyperband_lets_a_trial_at_max_resource_finish() -> None:
    others = [_trial(n, *([1.0] * 9)) for n in range(1, 6)]
    assert hyperband_rule(_trial(6, *([1.0] * 8), 50.0), others, True, 1, 9) is False
    assert hyperband_rule(_trial(6, 1.0, 1.0, 50.0), others, True, 1, 9) is True


def test_hyperband_ignores_the_trial_itself_among_others() -> None:
    others = _rungs_of([1.0, 2.0])
    mine = _trial(3, 0.0, 0.0, 9.0)
    # Counted once: 3 trials at the rung, only the best (1.0) kept.
    assert hyperband_rule(mine, others + [mine], True, 1, 9) is True
    assert hyperband_rule(mine, others + [mine], True, 1, 9, eta=4) is False
