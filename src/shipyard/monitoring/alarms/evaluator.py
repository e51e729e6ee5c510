"""The alarm reconciler: every ``alarm_evaluation_seconds`` each metric alarm's state is
brought in line with its metric (see :mod:`~shipyard.monitoring.alarms.evaluation` for the
rules), then each composite alarm's with its rule over its children's states, children first
(see :mod:`~shipyard.monitoring.alarms.composite`).

A state change is one database transaction: the alarm row, its ``StateUpdate`` history
item and the actions it owes (``pending_actions``). The
:class:`~shipyard.monitoring.alarms.actions.ActionRunner` then runs those in the background
and strikes each off when it has run, so a server stopped in between runs them after its
restart: actions run at least once. The state lives in the database, so a restarted server
evaluates on from where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection

from shipyard.compute.ticker import Ticker
from shipyard.monitoring.alarms.actions import ActionRunner, notification
from shipyard.monitoring.alarms.composite import Family
from shipyard.monitoring.alarms.evaluation import (
    Point,
    Rule,
    evaluate,
    evaluation_range,
)
from shipyard.monitoring.alarms.records import (
    Alarm,
    AlarmStore,
    HistoryItem,
    append_history,
)
from shipyard.monitoring.expressions import evaluate_queries
from shipyard.monitoring.metric_store import MetricKey, MetricStore
from shipyard.monitoring.statistics import datapoints, needs_sketch
from shipyard.store.records import now_ms

log = logging.getLogger("shipyard.alarms")


def returned_query(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """The one query of a metric math alarm whose result the alarm watches (``ReturnData``)."""
    (returned,) = [query for query in metrics if query.get("ReturnData", True)]
    return returned


def period_of(request: dict[str, Any]) -> int:
    """An alarm's period: ``Period``, or for metric math the returned query's (an
    expression's own ``Period``, else the shortest of its metrics')."""
    metrics = request.get("Metrics")
    if not metrics:
        return int(request["Period"])
    returned = returned_query(metrics)
    if returned.get("MetricStat"):
        return int(returned["MetricStat"]["Period"])
    if returned.get("Period"):
        return int(returned["Period"])
    return min(int(query["MetricStat"]["Period"]) for query in metrics if query.get("MetricStat"))


def rule_of(request: dict[str, Any]) -> Rule:
    """The evaluation rule of a (validated) PutMetricAlarm request."""
    periods = int(request["EvaluationPeriods"])
    return Rule(
        period_s=period_of(request),
        evaluation_periods=periods,
        datapoints_to_alarm=int(request.get("DatapointsToAlarm") or periods),
        threshold=float(request["Threshold"]),
        comparison=request["ComparisonOperator"],
        treat_missing=request.get("TreatMissingData") or "missing",
        statistic=request.get("ExtendedStatistic") or request.get("Statistic") or "",
        ignore_low_samples=request.get("EvaluateLowSampleCountPercentile") == "ignore",
        unit=request.get("Unit"),
    )


def metric_key(alarm: Alarm) -> MetricKey:
    request = alarm.request
    dimensions = tuple(sorted((item["Name"], item["Value"]) for item in request.get("Dimensions", [])))
    return MetricKey(alarm.region, request["Namespace"], request["MetricName"], dimensions)


class AlarmEvaluator:
    """Evaluates every alarm on a :class:`Ticker` and applies state changes."""

    def __init__(
        self,
        *,
        store: AlarmStore,
        metrics: MetricStore,
        actions: ActionRunner,
        account_id: str,
        interval_s: float,
    ) -> None:
        self.store = store
        self.actions = actions
        self._metrics = metrics
        self._account_id = account_id
        self._ticker = Ticker(self._tick, lambda: False, "shipyard-alarms", idle_interval=interval_s)
        #: One composite evaluation at a time (the ticker's, or one after SetAlarmState).
        self._composites = asyncio.Lock()

    def start(self) -> None:
        self._ticker.start()

    async def close(self) -> None:
        """Stop evaluating; actions in flight get a moment to finish."""
        await self._ticker.stop()
        await self.actions.close()

    def wake(self) -> None:
        """Evaluate now (an alarm was created or changed)."""
        self._ticker.wake()

    async def _tick(self) -> None:
        now = now_ms()
        composites = False
        for alarm in await self.store.every():
            self.actions.resume(alarm)  # what a stopped server left undone
            if alarm.is_composite:
                composites = True
                continue
            try:
                await self.evaluate(alarm, now)
            except Exception:
                log.exception("alarm %s in %s: evaluation failed", alarm.name, alarm.region)
        if composites:
            await self.evaluate_composites()

    async def evaluate_composites(self, region: str | None = None) -> None:
        """Bring the composite alarms of ``region`` (default: every region) in line with
        their children's current states."""
        async with self._composites:
            found = await (self.store.every() if region is None else self.store.in_region(region))
            by_region: dict[str, list[Alarm]] = defaultdict(list)
            for alarm in found:
                by_region[alarm.region].append(alarm)
            for alarms in by_region.values():
                await self._evaluate_family(Family(alarms))

    async def _evaluate_family(self, family: Family) -> None:
        order, cyclic = family.evaluation_order()
        if cyclic:
            log.warning("composite alarms %s depend on themselves: they are not evaluated", ", ".join(cyclic))
        for name in order:
            composite = family[name]
            inputs = family.inputs(name)
            if composite.details.get("inputs") == inputs:
                continue  # nothing it depends on changed: a state set by hand stays
            try:
                outcome = family.outcome(name)
                reason_data = json.dumps(outcome.reason_data, separators=(",", ":"))
                updated = await self.set_state(
                    composite, outcome.state, outcome.reason, reason_data, unless_changed=True, inputs=inputs
                )
            except Exception:
                log.exception("alarm %s in %s: evaluation failed", composite.name, composite.region)
                continue
            if updated is not None:
                family.replace(updated)

    async def evaluate(self, alarm: Alarm, now: int) -> None:
        """Move ``alarm`` to the state its metric calls for at ``now``, if that differs."""
        rule = rule_of(alarm.request)
        start, end = evaluation_range(rule, now)
        if alarm.request.get("Metrics"):
            points = await self._math_points(alarm, start, end)
        else:
            points = await self._metric_points(alarm, rule, start, end)
        outcome = evaluate(rule, points, now_ms=now, current=alarm.status)
        if outcome is None or outcome.state == alarm.status:
            return
        reason_data = json.dumps(outcome.reason_data, separators=(",", ":"))
        await self.set_state(alarm, outcome.state, outcome.reason, reason_data, unless_changed=True)

    async def _metric_points(self, alarm: Alarm, rule: Rule, start: int, end: int) -> list[Point]:
        minutes = await self._metrics.minutes(
            metric_key(alarm), start, end, rule.unit, sketches=needs_sketch(rule.statistic)
        )
        points = []
        for point in datapoints(minutes, start_ms=start, period_ms=rule.period_ms):
            value = point.statistic(rule.statistic)
            if value is not None and point.timestamp_ms >= start:
                points.append(Point(point.timestamp_ms, value, point.aggregate.sample_count))
        return points

    async def _math_points(self, alarm: Alarm, start: int, end: int) -> list[Point]:
        metrics = alarm.request["Metrics"]
        returned = returned_query(metrics)["Id"]
        results = await evaluate_queries(self._metrics, alarm.region, metrics, start, end)
        (result,) = [result for result in results if result.id == returned]
        if len(result.series) != 1:
            return []  # an alarm watches one time series: several are no datapoint it can judge
        return [Point(stamp, value) for stamp, value in sorted(result.series[0].points.items()) if stamp >= start]

    async def set_state(
        self,
        alarm: Alarm,
        state: str,
        reason: str,
        reason_data: str,
        *,
        unless_changed: bool = False,
        inputs: list[Any] | None = None,
    ) -> Alarm | None:
        """Set ``alarm``'s state, record it, and run its actions if the state changed.

        With ``unless_changed`` (an evaluation's verdict) nothing happens if the alarm's state
        or configuration changed since ``alarm`` was read. A composite's evaluation passes the
        ``inputs`` it saw: they are saved, and a verdict that keeps the state changes nothing
        else. The alarm after the change, or None when its state was not set.
        """
        seen = (alarm.status, alarm.details.get("configured_ms"))
        now = now_ms()

        def change(record: Alarm) -> tuple[str, str, str] | None:
            if unless_changed and (record.status, record.details.get("configured_ms")) != seen:
                return None
            if inputs is not None:
                record.details["inputs"] = inputs
                if record.status == state:
                    return None
            old = (record.status, record.details.get("reason", ""), record.details.get("reason_data", ""))
            record.status = state
            record.details.update(reason=reason, reason_data=reason_data, updated_ms=now)
            if old[0] != state:
                record.details["transitioned_ms"] = now
                if record.actions_enabled:
                    self.actions.schedule(record, notification(record, old[0], self._account_id))
            return old

        def record_history(conn: Connection, record: Alarm, old: tuple[str, str, str] | None) -> None:
            if old is None:
                return
            old_state, old_reason, old_data = old
            history = {
                "version": "1.0",
                "oldState": _state_document(old_state, old_reason, old_data),
                "newState": _state_document(state, reason, reason_data),
            }
            summary = f"Alarm updated from {old_state} to {state}"
            append_history(
                conn, [HistoryItem(record.region, record.name, now, "StateUpdate", summary, history, record.alarm_type)]
            )

        try:
            updated, old = await self.store.mutate(alarm.id, change, then=record_history)
        except LookupError:
            return None  # deleted meanwhile
        if old is None:
            return None
        self.actions.resume(updated)
        return updated


def _state_document(state: str, reason: str, reason_data: str) -> dict[str, Any]:
    """``{"stateValue", "stateReason", "stateReasonData"}`` as HistoryData words a state."""
    document: dict[str, Any] = {"stateValue": state, "stateReason": reason}
    if reason_data:
        try:
            document["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            document["stateReasonData"] = reason_data
    return document
