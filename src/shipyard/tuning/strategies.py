"""The search strategies of a tuning job: Random, Grid, Bayesian and Hyperband.

Every strategy is rebuilt from the trials so far on each call and draws its randomness from
the job's seed and the number of trials proposed before, so the same history always gets
the same proposals: a tuning job resumed after a server restart goes on as it would have.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import TrialState

from shipyard.tuning.ranges import (
    LOGARITHMIC,
    REVERSE_LOGARITHMIC,
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    Range,
    to_string,
)
from shipyard.tuning.trials import Strategy, Trial

optuna.logging.set_verbosity(optuna.logging.WARNING)


def strategy_for(
    strategy: str,
    ranges: list[Range],
    *,
    seed: int,
    objective_minimize: bool,
    max_jobs: int,
    hyperband: dict[str, Any] | None,
) -> Strategy:
    """The strategy called ``strategy`` (Bayesian, Random, Grid or Hyperband) over ``ranges``.

    ``seed`` (the job's ``RandomSeed``, >= 0) makes every proposal reproducible. Hyperband
    proposes as Random does: its brackets are formed by stopping trials early
    (:func:`shipyard.tuning.stopping.hyperband_rule`), so ``hyperband`` (the
    ``HyperbandStrategyConfig``) is not needed to propose.
    """
    if strategy == "Bayesian":
        return BayesianStrategy(ranges, seed=seed, minimize=objective_minimize, max_jobs=max_jobs)
    if strategy == "Grid":
        return GridStrategy(ranges)
    if strategy in ("Random", "Hyperband"):
        return RandomStrategy(ranges, seed=seed)
    raise ValueError(f"unknown tuning strategy {strategy!r}")


def grid_size(ranges: list[Range]) -> int:
    """How many points the grid of ``ranges`` has: the product of the categorical ranges' sizes."""
    return math.prod(len(item.values) for item in ranges if isinstance(item, CategoricalRange))


class RandomStrategy:
    """Independent samples, each uniform on the range's search scale."""

    def __init__(self, ranges: list[Range], *, seed: int) -> None:
        self._ranges = ranges
        self._seed = seed

    def propose(self, history: list[Trial], count: int) -> list[dict[str, str]]:
        """``count`` samples; the n-th proposal of the job (0-based) always draws from the
        generator seeded with (seed, n)."""
        start = len(history)
        return [self._sample(np.random.default_rng([self._seed, index])) for index in range(start, start + count)]

    def _sample(self, rng: np.random.Generator) -> dict[str, str]:
        return {item.name: to_string(item, _sample_one(item, rng)) for item in self._ranges}


class GridStrategy:
    """The cross-product of the categorical ranges, first range slowest, values in the order
    given; each point once, skipping those already in ``history``."""

    def __init__(self, ranges: list[Range]) -> None:
        self._ranges = [item for item in ranges if isinstance(item, CategoricalRange)]

    def propose(self, history: list[Trial], count: int) -> list[dict[str, str]]:
        """The next ``count`` points not tried yet; fewer (or none) once the grid is done."""
        tried = {tuple(trial.hyperparameters.get(item.name) for item in self._ranges) for trial in history}
        fresh = (point for point in itertools.product(*(item.values for item in self._ranges)) if point not in tried)
        return [
            {item.name: value for item, value in zip(self._ranges, point, strict=True)}
            for point in itertools.islice(fresh, count)
        ]


class BayesianStrategy:
    """Optuna's multivariate TPE sampler, rebuilt from ``history`` on every call.

    Finished trials are told with their objective, early-stopped ones as pruned at their
    last step, running ones as running (the constant liar keeps parallel proposals apart);
    failed trials and trials outside the ranges (a warm-start parent's) are left out.
    """

    def __init__(self, ranges: list[Range], *, seed: int, minimize: bool, max_jobs: int) -> None:
        self._ranges = ranges
        self._seed = seed
        self._direction = "minimize" if minimize else "maximize"
        self._distributions = {item.name: _distribution(item) for item in ranges}
        # Random start-up trials before the model is used: an eighth of the job, 2 to 10 (5 of 40
        # trials reached Random's 40-trial best in 20 on a 2-D test function; 10 took longer).
        self._startup = max(2, min(10, max_jobs // 8))

    def propose(self, history: list[Trial], count: int) -> list[dict[str, str]]:
        """``count`` proposals, the same for the same seed and history."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=self._startup,
                multivariate=True,
                constant_liar=True,
                seed=int(np.random.SeedSequence([self._seed, len(history)]).generate_state(1)[0]),
            )
        study = optuna.create_study(direction=self._direction, sampler=sampler)
        for trial in history:
            frozen = self._frozen(trial)
            if frozen is not None:
                study.add_trial(frozen)
        proposals = []
        for _ in range(count):
            asked = study.ask(self._distributions)
            proposals.append({item.name: _external(item, asked.params[item.name]) for item in self._ranges})
        return proposals

    def _frozen(self, trial: Trial) -> optuna.trial.FrozenTrial | None:
        params = _internal_params(self._ranges, trial.hyperparameters)
        if params is None:
            return None
        if trial.running:
            return optuna.trial.create_trial(state=TrialState.RUNNING, params=params, distributions=self._distributions)
        if trial.status == "Completed" and trial.objective is not None:
            return optuna.trial.create_trial(params=params, distributions=self._distributions, value=trial.objective)
        values = trial.intermediate or ((trial.objective,) if trial.objective is not None else ())
        if trial.status == "Stopped" and values:
            return optuna.trial.create_trial(
                state=TrialState.PRUNED,
                params=params,
                distributions=self._distributions,
                intermediate_values=dict(enumerate(values, start=1)),
            )
        return None


def _sample_one(item: Range, rng: np.random.Generator) -> int | float | str:
    if isinstance(item, CategoricalRange):
        return item.values[int(rng.integers(len(item.values)))]
    if isinstance(item, IntegerRange):
        if item.search_scale == LOGARITHMIC:
            # Log-uniform over the integers: each k owns [k - 0.5, k + 0.5) on the log scale.
            drawn = math.exp(rng.uniform(math.log(item.low - 0.5), math.log(item.high + 0.5)))
            return min(max(round(drawn), item.low), item.high)
        return int(rng.integers(item.low, item.high + 1))
    if item.search_scale == LOGARITHMIC:
        return math.exp(rng.uniform(math.log(item.low), math.log(item.high)))
    if item.search_scale == REVERSE_LOGARITHMIC:
        return 1 - math.exp(rng.uniform(math.log(1 - item.high), math.log(1 - item.low)))
    return float(rng.uniform(item.low, item.high))


def _distribution(item: Range) -> BaseDistribution:
    """The Optuna distribution of ``item``; a ReverseLogarithmic range is searched as
    ``1 - value`` on a log scale."""
    if isinstance(item, CategoricalRange):
        return CategoricalDistribution(item.values)
    if isinstance(item, IntegerRange):
        return IntDistribution(item.low, item.high, log=item.search_scale == LOGARITHMIC)
    if item.search_scale == REVERSE_LOGARITHMIC:
        return FloatDistribution(1 - item.high, 1 - item.low, log=True)
    return FloatDistribution(item.low, item.high, log=item.search_scale == LOGARITHMIC)


def _external(item: Range, value: Any) -> str:
    """An Optuna parameter as the training job gets it."""
    if isinstance(item, ContinuousRange) and item.search_scale == REVERSE_LOGARITHMIC:
        value = 1 - value
    return to_string(item, value)


def _internal_params(ranges: list[Range], hyperparameters: dict[str, str]) -> dict[str, Any] | None:
    """``hyperparameters`` as Optuna parameters, or None when one is missing or outside its range."""
    params = {}
    for item in ranges:
        value = _internal_value(item, hyperparameters.get(item.name))
        if value is None:
            return None
        params[item.name] = value
    return params


def _internal_value(item: Range, text: str | None) -> Any:
    if isinstance(item, CategoricalRange):
        return text if text in item.values else None
    try:
        number = float(text) if text is not None else math.nan
    except ValueError:
        return None
    if not item.low <= number <= item.high:
        return None
    if isinstance(item, IntegerRange):
        return int(number) if number.is_integer() else None
    if item.search_scale == REVERSE_LOGARITHMIC:
        return min(max(1 - number, 1 - item.high), 1 - item.low)
    return number
