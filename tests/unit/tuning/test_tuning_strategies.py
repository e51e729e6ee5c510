"""Random, Grid, Bayesian and Hyperband proposals: reproducible, within range, on the right scale."""

from __future__ import annotations

import math
import statistics
import time

import pytest

from shipyard.tuning.ranges import parse_ranges
from shipyard.tuning.strategies import grid_size, strategy_for
from shipyard.tuning.trials import Trial

MIXED = parse_ranges(
    {
        "IntegerParameterRanges": [
            {"Name": "depth", "MinValue": "1", "MaxValue": "10"},
            {"Name": "trees", "MinValue": "1", "MaxValue": "1000", "ScalingType": "Logarithmic"},
        ],
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "-5", "MaxValue": "5"},
            {"Name": "lr", "MinValue": "1e-5", "MaxValue": "1", "ScalingType": "Logarithmic"},
            {"Name": "beta", "MinValue": "0.9", "MaxValue": "0.9999", "ScalingType": "ReverseLogarithmic"},
        ],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart", "gblinear"]}],
    }
)


def _strategy(kind: str, ranges=MIXED, *, seed: int = 7, minimize: bool = True, max_jobs: int = 40):
    return strategy_for(kind, ranges, seed=seed, objective_minimize=minimize, max_jobs=max_jobs, hyperband=None)


def _completed(proposals: list[dict[str, str]], objective, start: int = 1) -> list[Trial]:
    return [Trial(start + i, p, "Completed", objective(p)) for i, p in enumerate(proposals)]


def _assert_within(proposal: dict[str, str]) -> None:
    assert set(proposal) == {"depth", "trees", "x", "lr", "beta", "booster"}
    assert 1 <= int(proposal["depth"]) <= 10
    assert 1 <= int(proposal["trees"]) <= 1000
    assert -5 <= float(proposal["x"]) <= 5
    assert 1e-5 <= float(proposal["lr"]) <= 1
    assert 0.9 <= float(proposal["beta"]) <= 0.9999
    assert proposal["booster"] in ("gbtree", "dart", "gblinear")


@pytest.mark.parametrize("kind", ["Random", "Hyperband"])
def test_random_is_reproducible_by_seed_and_index(kind: str) -> None:
    all_at_once = _strategy(kind).propose([], 6)
    one_by_one: list[Trial] = []
    for _ in range(6):
        one_by_one += _completed(_strategy(kind).propose(one_by_one, 1), lambda p: 0.0, len(one_by_one) + 1)
    # The n-th proposal depends only on the seed and n: after a restart the sequence goes on unchanged.
    assert [t.hyperparameters for t in one_by_one] == all_at_once
    assert len({tuple(p.items()) for p in all_at_once}) == 6
    assert _strategy(kind, seed=8).propose([], 6) != all_at_once
    for proposal in all_at_once:
        _assert_within(proposal)


def test_random_respects_scaling() -> None:
    samples = _strategy("Random").propose([], 2000)
    lr = [math.log10(float(p["lr"])) for p in samples]
    trees = [int(p["trees"]) for p in samples]
    beta = [math.log10(1 - float(p["beta"])) for p in samples]
    x = [float(p["x"]) for p in samples]
    # Log-uniform: each decade of [1e-5, 1] gets about a fifth of the samples.
    for decade in range(-5, 0):
        share = sum(decade <= v < decade + 1 for v in lr) / len(lr)
        assert 0.16 < share < 0.24, (decade, share)
    assert 0.28 < sum(t <= 31 for t in trees) / len(trees) < 0.72  # about half below the geometric middle
    assert sum(t <= 10 for t in trees) / len(trees) > 0.25  # linear would give 1%
    # Reverse log: 1 - beta is log-uniform over [1e-4, 0.1]: as many within 0.999..0.9999 as 0.9..0.99.
    assert 0.28 < sum(v < -3 for v in beta) / len(beta) < 0.38
    assert 0.28 < sum(v >= -2 for v in beta) / len(beta) < 0.38
    assert 0.4 < sum(v > 0 for v in x) / len(x) < 0.6
    assert {int(p["depth"]) for p in samples} == set(range(1, 11))
    assert {p["booster"] for p in samples} == {"gbtree", "dart", "gblinear"}
    assert min(trees) == 1 and max(trees) > 500


GRID = parse_ranges(
    {
        "CategoricalParameterRanges": [
            {"Name": "a", "Values": ["1", "2"]},
            {"Name": "b", "Values": ["x", "y", "z"]},
        ]
    }
)


def test_grid_size() -> None:
    assert grid_size(GRID) == 6
    assert grid_size(parse_ranges({"CategoricalParameterRanges": [{"Name": "a", "Values": ["1"]}]})) == 1


def test_grid_order_and_exhaustion() -> None:
    grid = _strategy("Grid", GRID)
    first = grid.propose([], 4)
    assert first == [{"a": "1", "b": "x"}, {"a": "1", "b": "y"}, {"a": "1", "b": "z"}, {"a": "2", "b": "x"}]
    history = _completed(first, lambda p: 1.0)
    assert grid.propose(history, 5) == [{"a": "2", "b": "y"}, {"a": "2", "b": "z"}]
    history += _completed(grid.propose(history, 2), lambda p: 1.0, 5)
    assert grid.propose(history, 3) == []


def test_grid_skips_points_already_tried_in_any_state() -> None:
    history = [
        Trial(1, {"a": "1", "b": "y"}, "Failed"),
        Trial(2, {"a": "2", "b": "x"}, "InProgress"),
    ]
    assert _strategy("Grid", GRID).propose(history, 10) == [
        {"a": "1", "b": "x"},
        {"a": "1", "b": "z"},
        {"a": "2", "b": "y"},
        {"a": "2", "b": "z"},
    ]


def _bowl(p: dict[str, str]) -> float:
    """A 2-D test function with a known minimum (about -0.1, near x = 1.3, lr = 10**-2.5)."""
    x, lr = float(p["x"]), float(p["lr"])
    return (x - 1.3) ** 2 + (math.log10(lr) + 2.5) ** 2 + 0.1 * math.sin(5 * x)


BOWL = parse_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "-5", "MaxValue": "5"},
            {"Name": "lr", "MinValue": "1e-5", "MaxValue": "1", "ScalingType": "Logarithmic"},
        ]
    }
)


def _best_after(kind: str, seed: int, trials: int, parallel: int = 2) -> float:
    strategy = _strategy(kind, BOWL, seed=seed)
    history: list[Trial] = []
    while len(history) < trials:
        history += _completed(strategy.propose(history, parallel), _bowl, len(history) + 1)
    return min(t.objective for t in history)


def test_bayesian_reaches_randoms_forty_trial_best_in_twenty() -> None:
    random_40 = statistics.median(_best_after("Random", seed, 40) for seed in range(5))
    bayesian_20 = statistics.median(_best_after("Bayesian", seed, 20) for seed in range(5))
    assert bayesian_20 <= random_40


def test_bayesian_is_deterministic_for_seed_and_history() -> None:
    history = _completed(_strategy("Random", seed=3).propose([], 12), lambda p: float(p["x"]) ** 2)
    history.append(Trial(13, _strategy("Random", seed=4).propose([], 1)[0], "InProgress"))
    first = _strategy("Bayesian").propose(history, 3)
    assert _strategy("Bayesian").propose(history, 3) == first
    assert _strategy("Bayesian", seed=8).propose(history, 3) != first
    assert len({tuple(p.items()) for p in first}) == 3
    for proposal in first:
        _assert_within(proposal)


def test_bayesian_startup_proposals_do_not_repeat_across_calls() -> None:
    strategy = _strategy("Bayesian")
    history = [Trial(1, strategy.propose([], 1)[0], "InProgress")]
    assert strategy.propose(history, 1) != [history[0].hyperparameters]


def test_bayesian_maximizes_and_keeps_apart_from_running_trials() -> None:
    # Maximize -(x - 2)^2: after 20 trials the model proposes near x = 2.
    ranges = parse_ranges({"ContinuousParameterRanges": [{"Name": "x", "MinValue": "-10", "MaxValue": "10"}]})
    strategy = _strategy("Bayesian", ranges, minimize=False)
    history: list[Trial] = []
    while len(history) < 20:
        history += _completed(strategy.propose(history, 1), lambda p: -((float(p["x"]) - 2) ** 2), len(history) + 1)
    best = max(history, key=lambda t: t.objective)
    assert abs(float(best.hyperparameters["x"]) - 2) < 0.5
    proposals = strategy.propose(history, 4)
    assert len({p["x"] for p in proposals}) == 4


def test_bayesian_uses_stopped_trials_and_skips_failed_and_foreign_ones() -> None:
    proposals = _strategy("Random", BOWL, seed=1).propose([], 8)
    history = _completed(proposals[:5], _bowl)
    history += [
        Trial(6, proposals[5], "Stopped", 9.0, (12.0, 9.0)),
        Trial(7, proposals[6], "Failed"),
        Trial(8, proposals[7], "Completed"),  # no objective reported
        Trial(9, {"x": "99", "lr": "0.1"}, "Completed", -50.0),  # a warm-start parent outside the ranges
        Trial(10, {"x": "1"}, "Completed", -50.0),
        Trial(11, {"x": "abc", "lr": "0.1"}, "Completed", -50.0),
    ]
    proposals = _strategy("Bayesian", BOWL).propose(history, 2)
    assert len(proposals) == 2
    for proposal in proposals:
        assert -5 <= float(proposal["x"]) <= 5 and 1e-5 <= float(proposal["lr"]) <= 1


def test_bayesian_is_fast() -> None:
    history = _completed(_strategy("Random").propose([], 40), lambda p: float(p["x"]) ** 2)
    strategy = _strategy("Bayesian")
    started = time.perf_counter()
    strategy.propose(history, 2)
    assert time.perf_counter() - started < 0.5  # about 10 ms here; generous for loaded CI machines


def test_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="unknown tuning strategy 'Anneal'"):
        _strategy("Anneal")
