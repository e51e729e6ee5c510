"""The tuning jobs' reconciler: proposes trials, starts them as training jobs, stops
hopeless ones early, follows them, names the best, and ends the tuning job.

Everything a tuning job knows lives in its row (:class:`~shipyard.tuning.records.TuningJob`):
its trials and what became of them, copied from their training jobs each tick. Strategies
are stateless (they see the trials so far), so after a server restart a tuning job goes on
where it was: its trials are ordinary training jobs the job supervisor recovers.

A trial dict (``details["trials"][<training job name>]``): ``number``, ``definition``
(index into ``details["definitions"]``), ``tuned`` (hyperparameter -> string), ``status``
(the training job's), ``objective`` (final value or None), ``objective_status`` (Pending,
Succeeded, Failed), ``intermediate`` (every value of the objective it logged),
``retryable``, ``retry_of``, ``early_stopped``, ``created_ms``, ``start_ms``, ``end_ms``,
``failure_reason``, ``arn``.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from shipyard.compute.job_store import JobStore
from shipyard.compute.records import Job, job_arn
from shipyard.compute.supervisor import JobSupervisor
from shipyard.compute.ticker import Ticker
from shipyard.store.records import now_ms
from shipyard.tuning.ranges import parse_ranges
from shipyard.tuning.records import TuningJob, TuningStore
from shipyard.tuning.stopping import hyperband_rule, median_rule
from shipyard.tuning.strategies import grid_size, strategy_for
from shipyard.tuning.trials import ENDED, RUNNING, Trial

log = logging.getLogger("shipyard.tuning")

#: Failure reasons of trials worth one more try (capacity, the server, not the user's code).
RETRYABLE = ("InternalServerError", "CapacityError", "InsufficientCapacity")


class Tuner:
    """Drives every tuning job; one per server, run as a background task."""

    def __init__(self, *, store: TuningStore, jobs: JobStore, supervisor: JobSupervisor, account_id: str) -> None:
        self._store = store
        self._jobs = jobs
        self._supervisor = supervisor
        self._account_id = account_id
        self._active = False
        self._ticker = Ticker(self._tick, lambda: self._active, "shipyard-tuning", busy_interval=0.25)

    def start(self) -> None:
        self._ticker.start()

    async def close(self) -> None:
        """Stop tuning; the trials run on, and the next start takes the tuning jobs up again."""
        await self._ticker.stop()

    def wake(self) -> None:
        """Reconcile now (the API changed something)."""
        self._ticker.wake()

    async def _tick(self) -> None:
        active = await self._store.active()
        self._active = bool(active)
        for tuning in active:
            try:
                await self._advance(tuning)
            except Exception:
                log.exception("tuning job %s: a step failed", tuning.name)

    # --- one step of one tuning job ----------------------------------------------------------

    async def _advance(self, tuning: TuningJob) -> None:
        if "parents" not in tuning.details:
            tuning = await self._read_parents(tuning)
        trials, series = await self._follow(tuning)
        tuning, _ = await self._store.mutate(tuning.id, lambda stored: _record(stored, trials))
        if tuning.status == "InProgress":
            reason = self._why_stop(tuning)
            if reason:
                tuning, _ = await self._store.mutate(tuning.id, lambda stored: _stopping(stored, reason))
        running = [name for name, trial in tuning.details["trials"].items() if trial["status"] in RUNNING]
        if tuning.status == "Stopping":
            await self._stop_trials(tuning, running)
            if not running:
                await self._end(tuning)
            return
        await self._stop_hopeless(tuning, series)
        launched = await self._launch(tuning, len(running))
        if not running and not launched:
            await self._end(tuning)

    async def _follow(self, tuning: TuningJob) -> tuple[dict[str, dict[str, Any]], dict[str, list[float]]]:
        """Each unfinished trial as its training job is now; and every running trial's
        objective values so far."""
        trials: dict[str, dict[str, Any]] = {}
        series: dict[str, list[float]] = {}
        for name, trial in tuning.details["trials"].items():
            if trial["status"] in ENDED:
                continue
            job = await self._jobs.get("training", tuning.region, name)
            if job is None:
                continue
            metric = _objective(tuning, trial["definition"])["MetricName"]
            values = await self._jobs.metric_values(job.id, metric)
            trials[name] = {**_trial_of(trial, job, metric), "intermediate": values}
            if job.status in RUNNING:
                series[name] = values
        return trials, series

    def _why_stop(self, tuning: TuningJob) -> str:
        """Why the tuning job should end now, before its budget is spent ("" if it should not)."""
        limits = tuning.config.get("ResourceLimits") or {}
        runtime = limits.get("MaxRuntimeInSeconds")
        if runtime and now_ms() - tuning.created_ms > int(runtime) * 1000:
            return "max-runtime"
        criteria = tuning.config.get("TuningJobCompletionCriteria") or {}
        best = _best(tuning.details["trials"], tuning)
        target = criteria.get("TargetObjectiveMetricValue")
        if best is not None and target is not None:
            value = tuning.details["trials"][best]["objective"]
            if (value <= target) if _minimize(tuning) else (value >= target):
                return "target-reached"
        patience = (criteria.get("BestObjectiveNotImproving") or {}).get("MaxNumberOfTrainingJobsNotImproving")
        if patience and best is not None:
            finished = [
                name
                for name, trial in tuning.details["trials"].items()
                if trial["objective_status"] == "Succeeded"
            ]
            if len(finished) - 1 - finished.index(best) >= int(patience):
                return "not-improving"
        return ""

    async def _stop_hopeless(self, tuning: TuningJob, series: dict[str, list[float]]) -> None:
        """Early stopping: Auto's median rule, or Hyperband's successive halving."""
        config = tuning.config
        hyperband = (config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig")
        auto = config.get("TrainingJobEarlyStoppingType") == "Auto"
        if not (auto or config.get("Strategy") == "Hyperband"):
            return
        minimize = _minimize(tuning)
        everyone = [_as_trial(name, trial, series) for name, trial in tuning.details["trials"].items()]
        doomed = []
        for name in series:
            trial = next(item for item in everyone if item.number == tuning.details["trials"][name]["number"])
            others = [item for item in everyone if item.number != trial.number]
            if config.get("Strategy") == "Hyperband":
                settings = hyperband or {}
                definition = tuning.details["definitions"][tuning.details["trials"][name]["definition"]]
                most = settings.get("MaxResource") or _resource(definition["definition"])
                stop = hyperband_rule(trial, others, minimize, int(settings.get("MinResource") or 1), int(most))
            else:
                stop = median_rule(trial, others, minimize)
            if stop:
                doomed.append(name)
        if doomed:

            def mark(stored: TuningJob) -> None:
                for name in doomed:
                    stored.details["trials"][name]["early_stopped"] = True

            tuning, _ = await self._store.mutate(tuning.id, mark)
            await self._stop_trials(tuning, doomed)
            log.info("tuning job %s stopped trials early: %s", tuning.name, ", ".join(doomed))

    async def _stop_trials(self, tuning: TuningJob, names: list[str]) -> None:
        for name in names:
            job = await self._jobs.get("training", tuning.region, name)
            if job is None or job.status != "InProgress":
                continue

            def stop(stored: Job) -> None:
                if stored.status == "InProgress":
                    stored.stop_reason = "user"
                    stored.status = "Stopping"
                    stored.set_secondary("Stopping", stored.message("Stopping"), now_ms())

            stopped, _ = await self._jobs.mutate(job.id, stop)
            await self._supervisor.stop(stopped)

    # --- starting trials -------------------------------------------------------------------------

    async def _launch(self, tuning: TuningJob, running: int) -> int:
        """Start as many trials as the limits allow (retries first); how many were started."""
        limits = tuning.config.get("ResourceLimits") or {}
        trials = tuning.details["trials"]
        total = int(limits.get("MaxNumberOfTrainingJobs") or 0) or sum(
            grid_size(parse_ranges(definition["ranges"])) for definition in tuning.details["definitions"]
        )
        room = min(int(limits.get("MaxParallelTrainingJobs") or 1) - running, total - len(trials))
        if room <= 0:
            return 0
        plans: list[tuple[int, dict[str, str], str | None]] = []
        retried = {trial.get("retry_of") for trial in trials.values()}
        for name, trial in trials.items():
            # A trial that failed for a retryable reason gets one more go (a retry gets none).
            again = trial["status"] == "Failed" and trial["retryable"] and not trial.get("retry_of")
            if len(plans) < room and again and name not in retried:
                plans.append((trial["definition"], trial["tuned"], name))
        definitions = tuning.details["definitions"]
        for index in range(len(definitions)):
            share = room - len(plans)
            if share <= 0:
                break
            mine = [item for item in self._history(tuning) if item[0] == index]
            wanted = -(-share // (len(definitions) - index))  # spread what is left over the definitions
            strategy = strategy_for(
                tuning.config["Strategy"],
                parse_ranges(definitions[index]["ranges"]),
                seed=_seed(tuning) + index,
                objective_minimize=_minimize(tuning, index),
                max_jobs=total,
                hyperband=(tuning.config.get("StrategyConfig") or {}).get("HyperbandStrategyConfig"),
            )
            for tuned in strategy.propose([trial for _, trial in mine], wanted):
                plans.append((index, tuned, None))
        for index, tuned, retry_of in plans[:room]:
            await self._start_trial(tuning, index, tuned, retry_of)
        return len(plans[:room])

    def _history(self, tuning: TuningJob) -> list[tuple[int, Trial]]:
        """(definition, trial) of every trial so far, warm-start parents' first."""
        parents = [
            (0, _as_trial("", trial, {}))
            for trial in tuning.details.get("parents") or []
            if trial["definition"] < len(tuning.details["definitions"])
        ]
        own = [(trial["definition"], _as_trial(name, trial, {})) for name, trial in tuning.details["trials"].items()]
        return parents + own

    async def _start_trial(self, tuning: TuningJob, index: int, tuned: dict[str, str], retry_of: str | None) -> None:
        number = len(tuning.details["trials"]) + 1
        name = f"{tuning.name}-{number:03d}-{secrets.token_hex(4)}"
        definition = tuning.details["definitions"][index]
        training = definition["training"]
        hyperparameters = {
            **training["HyperParameters"],
            **tuned,
            "_tuning_objective_metric": _objective(tuning, index)["MetricName"],
        }
        request = {**training, "TrainingJobName": name, "HyperParameters": hyperparameters}
        at = now_ms()
        job = Job.new(
            kind="training",
            region=tuning.region,
            name=name,
            arn=job_arn("training", tuning.region, self._account_id, name),
            request=request,
            details={"image": definition["image"], "tuning_job_arn": tuning.arn},
            at_ms=at,
        )
        job = await self._jobs.create(job)
        trial = {
            "number": number,
            "definition": index,
            "tuned": tuned,
            "status": "InProgress",
            "objective": None,
            "objective_status": "Pending",
            "retryable": False,
            "retry_of": retry_of,
            "early_stopped": False,
            "intermediate": [],
            "created_ms": at,
            "start_ms": None,
            "end_ms": None,
            "failure_reason": "",
            "arn": job.arn,
        }

        def add(stored: TuningJob) -> None:
            stored.details["trials"][name] = trial

        await self._store.mutate(tuning.id, add)
        tuning.details["trials"][name] = trial
        self._supervisor.submit(job)
        log.info("tuning job %s started trial %s with %s", tuning.name, name, tuned)

    # --- ending ------------------------------------------------------------------------------------

    async def _end(self, tuning: TuningJob) -> None:
        at = now_ms()

        def end(stored: TuningJob) -> None:
            details = stored.details
            details["end_ms"] = at
            if stored.status == "Stopping" and details.get("stop_reason") in ("user", "max-runtime"):
                stored.status = "Stopped"
            elif any(trial["objective_status"] == "Succeeded" for trial in details["trials"].values()):
                stored.status = "Completed"
            else:
                stored.status = "Failed"
                details["failure_reason"] = "No training job succeeded: every trial failed or reported no objective metric"

        await self._store.mutate(tuning.id, end)
        log.info("tuning job %s ended", tuning.name)

    async def _read_parents(self, tuning: TuningJob) -> TuningJob:
        """Warm start: the parents' trials, read once (the parents have ended)."""
        parents: list[dict[str, Any]] = []
        for parent in (tuning.request.get("WarmStartConfig") or {}).get("ParentHyperParameterTuningJobs") or []:
            record = await self._store.get("tuning", tuning.region, parent["HyperParameterTuningJobName"])
            if record is not None:
                parents += [{**trial, "name": name, "tuning_job": record.name} for name, trial in record.details["trials"].items()]

        def keep(stored: TuningJob) -> None:
            stored.details["parents"] = parents

        tuning, _ = await self._store.mutate(tuning.id, keep)
        return tuning


def _record(tuning: TuningJob, trials: dict[str, dict[str, Any]]) -> None:
    """Write what the trials' training jobs became, and the best trial so far."""
    tuning.details["trials"].update(trials)
    best = _best(tuning.details["trials"], tuning)
    if best is not None:
        tuning.details["best"] = best
    candidates = {name: trial for name, trial in tuning.details["trials"].items()}
    parents = {f"{trial['tuning_job']}/{trial['name']}": trial for trial in tuning.details.get("parents") or []}
    overall = _best({**parents, **candidates}, tuning)
    if overall is not None:
        tuning.details["overall_best"] = overall


def _stopping(tuning: TuningJob, reason: str) -> None:
    tuning.status = "Stopping"
    tuning.details["stop_reason"] = reason


def _trial_of(trial: dict[str, Any], job: Job, metric: str) -> dict[str, Any]:
    """``trial`` as its training job ``job`` is now."""
    final = (job.details.get("final_metrics") or {}).get(metric)
    objective = float(final[0]) if final else None
    failure = job.details.get("failure_reason") or ""
    if job.status in RUNNING:
        objective_status = "Pending"
    elif objective is not None and job.status in ("Completed", "Stopped"):
        objective_status = "Succeeded"
    else:
        objective_status = "Failed"
    return {
        **trial,
        "status": job.status,
        "objective": objective,
        "objective_status": objective_status,
        "retryable": job.status == "Failed" and failure.startswith(RETRYABLE),
        "start_ms": job.details.get("training_start_ms") or job.details.get("start_ms"),
        "end_ms": job.details.get("end_ms"),
        "failure_reason": failure,
    }


def _as_trial(name: str, trial: dict[str, Any], series: dict[str, list[float]]) -> Trial:
    return Trial(
        number=trial["number"],
        hyperparameters=trial["tuned"],
        status=trial["status"],
        objective=trial["objective"] if trial["objective_status"] == "Succeeded" else None,
        intermediate=tuple(series.get(name) or trial.get("intermediate") or ()),
    )


def _best(trials: dict[str, dict[str, Any]], tuning: TuningJob) -> str | None:
    """The trial with the best objective value among those that reported one."""
    scored = [(trial["objective"], name) for name, trial in trials.items() if trial["objective_status"] == "Succeeded"]
    if not scored:
        return None
    pick = min if _minimize(tuning) else max
    return pick(scored, key=lambda item: item[0])[1]


def _seed(tuning: TuningJob) -> int:
    """``RandomSeed`` (0 included), else the tuning job's id: reproducible across restarts."""
    seed = tuning.config.get("RandomSeed")
    return tuning.id if seed is None else int(seed)


def _objective(tuning: TuningJob, index: int) -> dict[str, Any]:
    return tuning.details["definitions"][index]["objective"]


def _minimize(tuning: TuningJob, index: int = 0) -> bool:
    return _objective(tuning, index)["Type"] == "Minimize"


#: Static hyperparameters that name a trial's resource (its epochs or rounds), as Hyperband reads them.
RESOURCE_HYPERPARAMETERS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs", "num_round")


def _resource(definition: dict[str, Any]) -> int:
    """A trial's full resource when HyperbandStrategyConfig gives no MaxResource: its epochs
    or rounds from the static hyperparameters (1, so nothing is stopped, without one)."""
    static = definition.get("StaticHyperParameters") or {}
    for name in RESOURCE_HYPERPARAMETERS:
        if name in static:
            try:
                return max(1, int(float(str(static[name]).strip('"'))))
            except ValueError:
                break
    return 1
