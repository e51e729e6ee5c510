"""When a running trial is hopeless: SageMaker's early-stopping rules over intermediate values.

Both rules are pure functions of the trials' logged objective values (``Trial.intermediate``,
step 1 being the first value a trial logged), so the tuner can ask them again on every tick
and after a restart.
"""

from __future__ import annotations

import statistics

from shipyard.tuning.trials import Trial

#: The fewest earlier trials the median rule compares with; with fewer it never stops a trial.
MEDIAN_MIN_TRIALS = 3


def median_rule(trial: Trial, others: list[Trial], minimize: bool) -> bool:
    """Whether ``TrainingJobEarlyStoppingType`` Auto stops ``trial`` now.

    With ``k`` the number of values ``trial`` has logged, it is stopped when its latest value
    (the one at step ``k``) is worse than the median of the running averages up to step
    ``k`` of the earlier trials (lower number) that logged at least ``k`` values, provided
    there are at least :data:`MEDIAN_MIN_TRIALS` of them. Equal to the median is not worse.
    """
    step = len(trial.intermediate)
    if step < 1:
        return False
    averages = [
        statistics.fmean(other.intermediate[:step])
        for other in others
        if other.number < trial.number and len(other.intermediate) >= step
    ]
    if len(averages) < MEDIAN_MIN_TRIALS:
        return False
    return _worse(trial.intermediate[-1], statistics.median(averages), minimize)


def hyperband_rule(
    trial: Trial, others: list[Trial], minimize: bool, min_resource: int, max_resource: int, eta: int = 3
) -> bool:
    """Whether Hyperband (asynchronous successive halving) stops ``trial`` now.

    Rungs lie at ``min_resource * eta**i`` steps, up to ``max_resource``. At the highest rung
    ``trial`` has reached, it goes on only if its value there is among the best
    ``1/eta`` of the values there of every trial (``trial`` and ``others``) that reached
    it, ties kept; with fewer than ``eta`` trials at the rung it goes on. The rung is judged
    again until ``trial`` reaches the next one, so a trial kept early can still be stopped
    there when better ones arrive. A trial that reaches ``max_resource`` is left to finish.
    """
    reached = len(trial.intermediate)
    rungs = [rung for rung in _rungs(min_resource, max_resource, eta) if rung <= reached]
    if not rungs or reached >= max_resource:
        return False
    rung = rungs[-1]
    values = [trial.intermediate[rung - 1]]
    values += [
        other.intermediate[rung - 1]
        for other in others
        if other.number != trial.number and len(other.intermediate) >= rung
    ]
    if len(values) < eta:
        return False
    kept = sorted(values, reverse=not minimize)[len(values) // eta - 1]
    return _worse(trial.intermediate[rung - 1], kept, minimize)


def _rungs(min_resource: int, max_resource: int, eta: int) -> list[int]:
    rungs, rung = [], min_resource
    while rung <= max_resource:
        rungs.append(rung)
        rung *= eta
    return rungs


def _worse(value: float, reference: float, minimize: bool) -> bool:
    return value > reference if minimize else value < reference
