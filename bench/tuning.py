"""Tuning: how many trials Bayesian needs against Random on a known function, and trials per minute.

Run from the repository root, with nothing else busy on the machine::

    python bench/tuning.py [--seeds 5] [--trials 40] [--out bench/README.md]

The fixed problem is Hartmann's 3-dimensional function on [0, 1]^3 (known minimum
-3.86278 at (0.114614, 0.555649, 0.852547)), minimized. In one run:

* **through the server**: one Shipyard server (default settings, temporary directory) runs
  tuning jobs over a script-mode training job whose ``train.py`` evaluates the function at its
  hyperparameters ``x1``, ``x2``, ``x3`` and logs the value (read by ``MetricDefinitions``):
  Strategy Random and Bayesian, ``RandomSeed`` 1..``--seeds``, ``--trials`` trials each,
  ``MaxParallelTrainingJobs`` ``--parallel`` (4), one tuning job at a time. Every trial's
  objective is read back with ListTrainingJobsForHyperParameterTuningJob and put in creation
  order (the ``NNN`` of the trial's name), which gives the best value after a quarter, half
  and all of the trials (10, 20, 40);
* **in-process**: the same comparison with ``shipyard.tuning.strategies`` called directly on
  the same function (``--in-process-seeds`` seeds, 5), with ``--parallel`` trials in flight
  as on the server and with one, where each trial ends in the order it started;
* **trials per minute**: tuning jobs of ``--throughput-trials`` (20) Random trials of the same
  script (a no-op job: the evaluation takes microseconds) with ``MaxParallelTrainingJobs`` 2
  and 1, from the tuning job's ``CreationTime`` to its ``HyperParameterTuningEndTime``.

Target (the issue's): the median over seeds of Bayesian's best after half the trials (20) is
at least as good as Random's after all of them (40).
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3 import machine_lines, write_between_markers

from shipyard.testing import start_server
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.server import RunningServer
from shipyard.testing.tuning import (
    script_definition,
    trials,
    tuning_config,
    wait_for_tuning,
)
from shipyard.tuning.ranges import parse_ranges
from shipyard.tuning.strategies import strategy_for
from shipyard.tuning.trials import Trial

START_MARKER = "<!-- tuning-results:start -->"
END_MARKER = "<!-- tuning-results:end -->"
STRATEGIES = ("Random", "Bayesian")
OPTIMUM = -3.86278
METRIC = "hartmann3"
RANGES = {"ContinuousParameterRanges": [{"Name": name, "MinValue": "0", "MaxValue": "1"} for name in ("x1", "x2", "x3")]}
#: Each trial runs on one ml.t3.medium host: 2 vCPUs and 4 GiB, which the server is given room for.
INSTANCE_TYPE = "ml.t3.medium"


def hartmann3(x: tuple[float, float, float]) -> float:
    """Hartmann's 3-D function on [0, 1]^3; minimum -3.86278 at (0.114614, 0.555649, 0.852547)."""
    alpha = (1.0, 1.2, 3.0, 3.2)
    a = ((3.0, 10.0, 30.0), (0.1, 10.0, 35.0), (3.0, 10.0, 30.0), (0.1, 10.0, 35.0))
    p = ((0.3689, 0.1170, 0.2673), (0.4699, 0.4387, 0.7470), (0.1091, 0.8732, 0.5547), (0.0381, 0.5743, 0.8828))
    return -sum(
        weight * math.exp(-sum(ai * (xi - pi) ** 2 for ai, xi, pi in zip(row, x, centre, strict=True)))
        for weight, row, centre in zip(alpha, a, p, strict=True)
    )


# The trial's train.py evaluates the very function above (its source is copied in).
SCRIPT = f"""\
import argparse, math

{inspect.getsource(hartmann3)}

parser = argparse.ArgumentParser()
for name in ("x1", "x2", "x3"):
    parser.add_argument(f"--{{name}}", type=float, required=True)
args, _ = parser.parse_known_args()
print(f"{METRIC}={{hartmann3((args.x1, args.x2, args.x3))!r}}", flush=True)
"""
REGEX = rf"{METRIC}=(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)"


@dataclass(frozen=True)
class Run:
    """One tuning job's (or one simulated tuning job's) objectives, in creation order."""

    strategy: str
    seed: int
    objectives: list[float]
    #: Seconds from CreationTime to HyperParameterTuningEndTime (server runs only).
    seconds: float | None = None

    def best_after(self, count: int) -> float:
        return min(self.objectives[:count])

    def first_reaching(self, value: float) -> int | None:
        """The number of trials after which the best is at least as good as ``value``."""
        best = math.inf
        for index, objective in enumerate(self.objectives, start=1):
            best = min(best, objective)
            if best <= value:
                return index
        return None


# --------------------------------------------------------------------------- in-process


def simulate(strategy: str, seed: int, count: int, parallel: int) -> Run:
    """A tuning job run with the strategy called directly: ``parallel`` trials in flight, each
    ending in the order it started, the next one proposed as soon as one ends (as the tuner
    proposes for free slots)."""
    ranges = parse_ranges(RANGES)
    proposer = strategy_for(strategy, ranges, seed=seed, objective_minimize=True, max_jobs=count, hyperband=None)
    done: list[Trial] = []
    running: list[Trial] = []
    while len(done) < count:
        room = min(parallel - len(running), count - len(done) - len(running))
        for tuned in proposer.propose(done + running, room):
            running.append(Trial(len(done) + len(running) + 1, tuned, "InProgress"))
        ending = running.pop(0)
        value = hartmann3(tuple(float(ending.hyperparameters[name]) for name in ("x1", "x2", "x3")))
        done.append(Trial(ending.number, ending.hyperparameters, "Completed", value))
    return Run(strategy, seed, [trial.objective for trial in sorted(done, key=lambda trial: trial.number)])


# ------------------------------------------------------------------------------ server


def run_tuning(server: RunningServer, definition: dict[str, Any], strategy: str, seed: int, count: int, parallel: int) -> Run:
    """One tuning job through boto3, to its end; its trials' objectives in creation order."""
    sagemaker = server.client("sagemaker")
    name = f"{strategy.lower()[:5]}-{seed}-{uuid.uuid4().hex[:8]}"
    config = tuning_config(strategy, RANGES, METRIC, jobs=count, parallel=parallel, RandomSeed=seed)
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, HyperParameterTuningJobConfig=config, TrainingJobDefinition=definition
    )
    described = wait_for_tuning(sagemaker, name, timeout=60 + 5 * count)
    if described["HyperParameterTuningJobStatus"] != "Completed":
        raise RuntimeError(f"{name}: {described['HyperParameterTuningJobStatus']} {described.get('FailureReason', '')}")
    found = sorted(trials(sagemaker, name), key=lambda trial: int(trial["TrainingJobName"].split("-")[-2]))
    if len(found) != count or any("FinalHyperParameterTuningJobObjectiveMetric" not in trial for trial in found):
        statuses = sorted({(trial["TrainingJobStatus"], trial.get("FailureReason", "")) for trial in found})
        raise RuntimeError(f"{name}: {len(found)} trials of {count}, not every one with an objective: {statuses}")
    objectives = [trial["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for trial in found]
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    if not math.isclose(best, min(objectives)):
        raise RuntimeError(f"{name}: BestTrainingJob's objective {best} is not the best of the trials listed, {min(objectives)}")
    seconds = (described["HyperParameterTuningEndTime"] - described["CreationTime"]).total_seconds()
    run = Run(strategy, seed, objectives, seconds)
    print(
        f"  {name}: {count} trials in {seconds:.1f} s, best after "
        + ", ".join(f"{point}: {run.best_after(point):.4f}" for point in checkpoints(count)),
        file=sys.stderr,
        flush=True,
    )
    return run


def on_server(args: argparse.Namespace, scratch: Path) -> tuple[list[Run], dict[int, Run]]:
    """The comparison's tuning jobs, then the throughput ones (by MaxParallelTrainingJobs)."""
    hosts = max(args.parallel, 2)
    capacity = {"SHIPYARD_CPUS": str(2 * hosts), "SHIPYARD_MEMORY": str(4096 * hosts)}
    with start_server(scratch / "shipyard", extra_env=capacity) as server:
        bucket = f"bench-{uuid.uuid4().hex[:10]}"
        server.client("s3").create_bucket(Bucket=bucket)
        role = sagemaker_role(server)
        definition = script_definition(server, bucket, role, "hartmann3", SCRIPT, METRIC, REGEX, instance_type=INSTANCE_TYPE)
        comparison = [
            run_tuning(server, definition, strategy, seed, args.trials, args.parallel)
            for strategy in STRATEGIES
            for seed in range(1, args.seeds + 1)
        ]
        throughput = {
            parallel: run_tuning(server, definition, "Random", 1, args.throughput_trials, parallel) for parallel in (2, 1)
        }
    return comparison, throughput


# ------------------------------------------------------------------------------ report


def checkpoints(count: int) -> tuple[int, int, int]:
    """A quarter, half and all of ``count`` trials (10, 20, 40 of 40)."""
    return max(1, count // 4), max(1, count // 2), count


def comparison_lines(runs: list[Run], count: int) -> list[str]:
    """A table of median bests per strategy, and whether Bayesian at half reaches Random at all."""
    points = checkpoints(count)
    by_strategy = {strategy: [run for run in runs if run.strategy == strategy] for strategy in STRATEGIES}
    medians = {
        strategy: [statistics.median(run.best_after(point) for run in chosen) for point in points]
        for strategy, chosen in by_strategy.items()
    }
    target = medians["Random"][-1]
    header = " | ".join(f"best after {point}" for point in points)
    lines = [
        f"| strategy | {header} | trials to reach Random's {count}-trial median | per seed (best after {'/'.join(map(str, points))}) |",
        "|---|" + "---:|" * (len(points) + 1) + "---|",
    ]
    for strategy, chosen in by_strategy.items():
        reached = [run.first_reaching(target) for run in chosen]
        needed = statistics.median(math.inf if value is None else value for value in reached)
        seeds = "; ".join(f"{run.seed}: " + "/".join(f"{run.best_after(point):.3f}" for point in points) for run in chosen)
        cells = " | ".join(f"{value:.4f}" for value in medians[strategy])
        lines.append(f"| {strategy} | {cells} | {'never' if math.isinf(needed) else f'{needed:g}'} | {seeds} |")
    half = medians["Bayesian"][1]
    met = "met" if half <= target else "**not met**"
    lines += [
        "",
        (
            f"- Bayesian's median best after {points[1]} trials: **{half:.4f}**; Random's after {count}: **{target:.4f}**: "
            f"target (Bayesian at {points[1]} ≤ Random at {count}) {met}"
        ),
    ]
    return lines


def same_random_lines(server: list[Run], in_process: list[Run]) -> list[str]:
    """Whether the server's Random trials hit the very points the strategy proposes in-process
    (Random's proposals depend on the seed and the trial's index only, not on timing)."""
    proposed = {run.seed: run.objectives for run in in_process if run.strategy == "Random"}
    compared = [run for run in server if run.strategy == "Random" and run.seed in proposed]
    if not compared:
        return []
    same = all(
        len(run.objectives) == len(proposed[run.seed])
        and all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(run.objectives, proposed[run.seed], strict=True))
        for run in compared
    )
    verdict = "yes" if same else "**no**"
    line = (
        "- Random through the server evaluated the same points, in the same order, as the strategy called in-process "
        f"with the same seeds ({len(compared)} seeds compared): {verdict}"
    )
    return [line]


def throughput_lines(throughput: dict[int, Run], comparison: list[Run], parallel: int) -> list[str]:
    lines = [
        "| MaxParallelTrainingJobs | trials | CreationTime → HyperParameterTuningEndTime (s) | trials / minute |",
        "|---:|---:|---:|---:|",
    ]
    for limit, run in sorted(throughput.items(), reverse=True):
        assert run.seconds is not None
        lines.append(f"| {limit} | {len(run.objectives)} | {run.seconds:.1f} | {len(run.objectives) / run.seconds * 60:.1f} |")
    rates = [len(run.objectives) / run.seconds * 60 for run in comparison if run.seconds]
    lines += [
        "",
        (
            f"- The comparison's tuning jobs above ({parallel} in parallel, Random and Bayesian): median "
            f"{statistics.median(rates):.1f} trials / minute (from {min(rates):.1f} to {max(rates):.1f})."
        ),
    ]
    return lines


def report(args: argparse.Namespace, server: tuple[list[Run], dict[int, Run]], in_process: dict[int, list[Run]], took: float, load: tuple[float, float]) -> str:
    comparison, throughput = server
    lines = [
        (
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, took {took:.0f} s (1-minute load average "
            f"{load[0]:.1f} at the start, {load[1]:.1f} at the end), with:"
        ),
        "",
        "```",
        "python bench/tuning.py " + " ".join(_command_args(args)),
        "```",
        "",
        (
            f"Hartmann's 3-D function on [0, 1]^3, minimized (known minimum {OPTIMUM}); medians over seeds of the "
            "best objective after the first N trials in creation order."
        ),
        "",
        (
            f"**Through the server**: {args.seeds} seeds (RandomSeed 1..{args.seeds}) per strategy, {args.trials} "
            f"trials each, MaxParallelTrainingJobs {args.parallel}, script-mode trials on {INSTANCE_TYPE}:"
        ),
        "",
        *comparison_lines(comparison, args.trials),
        *same_random_lines(comparison, next(iter(in_process.values()))),
    ]
    for parallel, runs in in_process.items():
        lines += [
            "",
            (
                f"**In-process** (`shipyard.tuning.strategies` called directly, no server): {args.in_process_seeds} seeds "
                f"per strategy, {args.trials} trials each, {parallel} in flight:"
            ),
            "",
            *comparison_lines(runs, args.trials),
        ]
    lines += [
        "",
        f"**Trials per minute** (Random, {args.throughput_trials} trials of the same script, a no-op job):",
        "",
        *throughput_lines(throughput, comparison, args.parallel),
        *machine_lines(),
    ]
    return "\n".join(lines)


def _command_args(args: argparse.Namespace) -> list[str]:
    given = [f"--seeds {args.seeds}", f"--trials {args.trials}"]
    if args.parallel != 4:
        given.append(f"--parallel {args.parallel}")
    if args.in_process_seeds != 5:
        given.append(f"--in-process-seeds {args.in_process_seeds}")
    if args.throughput_trials != 20:
        given.append(f"--throughput-trials {args.throughput_trials}")
    if args.out:
        given.append(f"--out {args.out}")
    return given


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="RandomSeeds per strategy through the server (default 5)")
    parser.add_argument("--trials", type=int, default=40, help="trials per tuning job (default 40)")
    parser.add_argument("--parallel", type=int, default=4, help="MaxParallelTrainingJobs of the comparison (default 4)")
    parser.add_argument("--in-process-seeds", type=int, default=5, help="seeds per strategy in-process (default 5)")
    parser.add_argument("--throughput-trials", type=int, default=20, help="trials per throughput tuning job (default 20)")
    parser.add_argument("--out", type=Path, help="markdown file to write the results into (between markers)")
    args = parser.parse_args(argv)
    began, load = time.monotonic(), os.getloadavg()[0]
    in_process = {
        parallel: [
            simulate(strategy, seed, args.trials, parallel)
            for strategy in STRATEGIES
            for seed in range(1, args.in_process_seeds + 1)
        ]
        for parallel in dict.fromkeys((args.parallel, 1))
    }
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-tuning-") as directory:
        server = on_server(args, Path(directory))
    text = report(args, server, in_process, time.monotonic() - began, (load, os.getloadavg()[0]))
    print(text)
    if args.out:
        write_between_markers(args.out, text, start=START_MARKER, end=END_MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
