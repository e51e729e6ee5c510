"""How one metric alarm's state follows from its recent datapoints: pure rules, no I/O.

Which periods are evaluated (deterministic, so that a test can drive an alarm with chosen
timestamps):

- Periods are aligned to multiples of ``Period`` since the epoch (minutes for periods under a
  minute: Shipyard stores per-minute aggregates). The newest period is the one that holds
  the evaluation time, although it is still filling (an alarm reacts within one evaluation
  of the data arriving, where CloudWatch waits for the period to end).
- The *evaluation range* is that period and the ``EvaluationPeriods + EXTRA_PERIODS - 1``
  before it. With at least ``EvaluationPeriods`` (N) datapoints in the range, the N most
  recent are evaluated and ``TreatMissingData`` plays no part, as CloudWatch documents.
- With fewer (r < N) real datapoints, ``TreatMissingData`` decides:

  - ``missing``: none at all → INSUFFICIENT_DATA; else ALARM when at least
    min(DatapointsToAlarm, r) of them breach, OK otherwise;
  - ``ignore``: ALARM when DatapointsToAlarm (M) of them breach, OK when M could not be
    reached even if every missing one breached, otherwise the state is kept;
  - ``breaching`` / ``notBreaching``: the r real datapoints and N - r missing ones counted
    as breaching / not breaching; ALARM when M breach.

``EvaluateLowSampleCountPercentile=ignore`` keeps the state while an evaluated percentile
datapoint has fewer samples than the percentile needs (1 / (1 - p/100): p99 needs 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.monitoring.histogram import percentile
from shipyard.monitoring.metric_store import MINUTE_MS
from shipyard.monitoring.statistics import STATISTICS

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
#: Periods before the N evaluated ones that the evaluation range also covers.
EXTRA_PERIODS = 5

#: The most datapoints a StateReason lists (the most recent), so that it stays short.
LISTED = 10
#: ComparisonOperator → (test, words in StateReason).
COMPARISONS = {
    "GreaterThanThreshold": (lambda value, threshold: value > threshold, "greater than"),
    "GreaterThanOrEqualToThreshold": (lambda value, threshold: value >= threshold, "greater than or equal to"),
    "LessThanThreshold": (lambda value, threshold: value < threshold, "less than"),
    "LessThanOrEqualToThreshold": (lambda value, threshold: value <= threshold, "less than or equal to"),
}
#: TreatMissingData's values.
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@dataclass(frozen=True)
class Rule:
    """What of an alarm's configuration its evaluation needs."""

    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str = "missing"
    #: A standard statistic (``Average``) or an extended one (``p99``, ``tm90``); empty for metric math.
    statistic: str = "Average"
    #: EvaluateLowSampleCountPercentile is ``ignore``.
    ignore_low_samples: bool = False
    unit: str | None = None

    @property
    def period_ms(self) -> int:
        return max(self.period_s * 1000, MINUTE_MS)

    @property
    def percentile(self) -> float | None:
        """The fraction an extended statistic names (0.99 for ``p99``), else None."""
        return percentile(self.statistic) if self.statistic else None

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)


@dataclass(frozen=True)
class Point:
    """One period's statistic."""

    timestamp_ms: int
    value: float
    #: None for a metric math result.
    sample_count: float | None = None


@dataclass(frozen=True)
class Outcome:
    """A state the alarm should be in, and why (StateReason, StateReasonData)."""

    state: str
    reason: str
    reason_data: dict[str, Any]


def evaluation_range(rule: Rule, now_ms: int) -> tuple[int, int]:
    """[start, end) epoch milliseconds of the periods an evaluation at ``now_ms`` reads."""
    period = rule.period_ms
    end = now_ms - now_ms % period + period
    return end - (rule.evaluation_periods + EXTRA_PERIODS) * period, end


def evaluate(rule: Rule, points: list[Point], *, now_ms: int, current: str) -> Outcome | None:
    """The state ``points`` (the range's datapoints, oldest first) call for; None keeps the
    current state."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    recent = points[-n:]
    if rule.ignore_low_samples and rule.percentile is not None:
        needed = 1 / (1 - rule.percentile) if rule.percentile < 1 else 1
        if any(point.sample_count is not None and point.sample_count < needed for point in recent):
            return None
    breaching = [point for point in recent if rule.breaches(point.value)]
    missing = n - len(recent)
    data = _reason_data(rule, recent, now_ms)
    if not missing:
        return _threshold_outcome(rule, recent, breaching, 0, len(breaching) >= m, current, data)
    treatment = rule.treat_missing
    if treatment == "missing":
        if not recent:
            return Outcome(INSUFFICIENT_DATA, f"Insufficient Data: {_count(n, 'datapoint')} {_was(n)} unknown.", data)
        return _threshold_outcome(rule, recent, breaching, 0, len(breaching) >= min(m, len(recent)), current, data)
    if treatment == "ignore":
        if len(breaching) >= m:
            return _threshold_outcome(rule, recent, breaching, 0, True, current, data)
        if len(breaching) + missing < m and recent:
            return _threshold_outcome(rule, recent, breaching, 0, False, current, data)
        return None
    filled_breaching = missing if treatment == "breaching" else 0
    alarming = len(breaching) + filled_breaching >= m
    return _threshold_outcome(rule, recent, breaching, missing, alarming, current, data)


def _threshold_outcome(
    rule: Rule,
    recent: list[Point],
    breaching: list[Point],
    filled: int,
    alarming: bool,
    current: str,
    data: dict[str, Any],
) -> Outcome:
    """``Threshold Crossed: ...`` as CloudWatch words it."""
    words = COMPARISONS[rule.comparison][1]
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    threshold = _number(rule.threshold)
    shown = breaching if alarming else [point for point in recent if point not in breaching]
    listed = ", ".join(f"{_number(p.value)} ({_short_time(p.timestamp_ms)})" for p in reversed(shown[-LISTED:]))
    negation = "" if alarming else "not "
    if not shown:
        reason = f"Threshold Crossed: no datapoints were received for {_count(filled, 'period')}"
    elif alarming and n > 1 and not filled:
        reason = (
            f"Threshold Crossed: {len(shown)} out of the last {n} datapoints [{listed}] were {words} the threshold"
            f" ({threshold}) (minimum {_count(m, 'datapoint')} for {current} -> {ALARM} transition)."
        )
        return Outcome(ALARM, reason, data)
    else:
        reason = (
            f"Threshold Crossed: {_count(len(shown), 'datapoint')} [{listed}] {_was(len(shown))} {negation}{words}"
            f" the threshold ({threshold})"
        )
    if filled:
        treated = "Breaching" if rule.treat_missing == "breaching" else "NonBreaching"
        reason += f" and {_count(filled, 'missing datapoint')} {_was(filled)} treated as [{treated}]"
    return Outcome(ALARM if alarming else OK, reason + ".", data)


def _reason_data(rule: Rule, recent: list[Point], now_ms: int) -> dict[str, Any]:
    """StateReasonData as CloudWatch writes it for a threshold alarm."""
    data: dict[str, Any] = {"version": "1.0", "queryDate": iso_time(now_ms)}
    if recent:
        data["startDate"] = iso_time(recent[0].timestamp_ms)
    if rule.statistic:
        data["statistic" if rule.statistic in STATISTICS else "extendedStatistic"] = rule.statistic
    if rule.unit:
        data["unit"] = rule.unit
    data["period"] = rule.period_s
    data["recentDatapoints"] = [point.value for point in recent]
    data["threshold"] = rule.threshold
    data["evaluatedDatapoints"] = [_evaluated(point) for point in reversed(recent)]
    return data


def _evaluated(point: Point) -> dict[str, Any]:
    found: dict[str, Any] = {"timestamp": iso_time(point.timestamp_ms)}
    if point.sample_count is not None:
        found["sampleCount"] = point.sample_count
    found["value"] = point.value
    return found


def iso_time(epoch_ms: int) -> str:
    """``2026-12-06T10:01:00.000+0000``: how CloudWatch writes times inside JSON documents."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+0000"


def _short_time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%d/%m/%y %H:%M:%S")


def _number(value: float) -> str:
    return repr(float(value))


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"
