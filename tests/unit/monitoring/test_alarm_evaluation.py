"""The rules that turn an alarm's recent datapoints into its state (pure logic)."""

from __future__ import annotations

import pytest

from shipyard.monitoring.alarms.evaluation import (
    ALARM,
    EXTRA_PERIODS,
    INSUFFICIENT_DATA,
    OK,
    Point,
    Rule,
    evaluate,
    evaluation_range,
    iso_time,
)

MINUTE = 60_000
#: 2026-12-06 10:00:00 UTC.
T0 = 1_796_551_200_000
NOW = T0 + 10 * MINUTE + 5_000


def rule(n: int = 1, m: int | None = None, treat: str = "missing", **changes) -> Rule:
    values = {
        "period_s": 60,
        "evaluation_periods": n,
        "datapoints_to_alarm": m or n,
        "threshold": 3.0,
        "comparison": "GreaterThanThreshold",
        "treat_missing": treat,
    }
    return Rule(**{**values, **changes})


def points(*values: float | None) -> list[Point]:
    """Datapoints of the periods ending with the one holding NOW, oldest first (None: missing)."""
    newest = NOW - NOW % MINUTE
    count = len(values)
    return [
        Point(newest - (count - 1 - index) * MINUTE, value, 1.0)
        for index, value in enumerate(values)
        if value is not None
    ]


def state(alarm_rule: Rule, data: list[Point], current: str = OK) -> str | None:
    outcome = evaluate(alarm_rule, data, now_ms=NOW, current=current)
    return None if outcome is None else outcome.state


def test_range_ends_with_the_period_holding_now_and_reaches_back_n_plus_extra_periods():
    start, end = evaluation_range(rule(n=3), NOW)
    assert end == T0 + 11 * MINUTE
    assert (end - start) // MINUTE == 3 + EXTRA_PERIODS
    hourly = evaluation_range(rule(n=2, period_s=3600), NOW)
    assert hourly == (T0 + 3600_000 - (2 + EXTRA_PERIODS) * 3600_000, T0 + 3600_000)


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("GreaterThanThreshold", 3.0, OK),
        ("GreaterThanThreshold", 3.5, ALARM),
        ("GreaterThanOrEqualToThreshold", 3.0, ALARM),
        ("LessThanThreshold", 3.0, OK),
        ("LessThanThreshold", 2.0, ALARM),
        ("LessThanOrEqualToThreshold", 3.0, ALARM),
    ],
)
def test_comparison_operators(comparison, value, expected):
    assert state(rule(comparison=comparison), points(value)) == expected


def test_m_out_of_n():
    two_of_three = rule(n=3, m=2)
    assert state(two_of_three, points(5, 1, 1)) == OK
    assert state(two_of_three, points(5, 1, 5)) == ALARM
    assert state(two_of_three, points(1, 5, 5)) == ALARM
    # Only the N most recent datapoints count: an old breach has aged out.
    assert state(two_of_three, points(5, 5, 1, 1, 5)) == OK


def test_enough_real_datapoints_make_the_treatment_irrelevant():
    # 0 - X - X with N = M = 3: the three real datapoints are evaluated, whatever the treatment.
    for treatment in ("missing", "ignore", "breaching", "notBreaching"):
        assert state(rule(n=3, treat=treatment), points(1, None, 5, None, 5)) == OK
        assert state(rule(n=3, treat=treatment), points(5, None, 5, None, 5)) == ALARM


def test_all_missing():
    nothing: list[Point] = []
    assert state(rule(n=2, treat="missing"), nothing) == INSUFFICIENT_DATA
    assert state(rule(n=2, treat="ignore"), nothing) is None
    assert state(rule(n=2, treat="breaching"), nothing) == ALARM
    assert state(rule(n=2, treat="notBreaching"), nothing, current=ALARM) == OK


def test_some_missing():
    one_breach = points(None, None, 5)
    assert state(rule(n=3, treat="missing"), one_breach) == ALARM
    assert state(rule(n=3, treat="ignore"), one_breach) is None
    assert state(rule(n=3, treat="breaching"), one_breach) == ALARM
    assert state(rule(n=3, treat="notBreaching"), one_breach) == OK
    # 1 real datapoint below the threshold out of N = M = 3.
    calm = points(None, None, 1)
    assert state(rule(n=3, treat="missing"), calm, current=ALARM) == OK
    assert state(rule(n=3, treat="breaching"), calm) == OK  # 2 filled breaches < M = 3
    assert state(rule(n=3, m=2, treat="breaching"), calm) == ALARM
    # ignore decides when the missing datapoints could not change the outcome.
    assert state(rule(n=3, m=3, treat="ignore"), points(None, 1, 1), current=ALARM) == OK
    assert state(rule(n=3, m=1, treat="ignore"), points(None, 1, 5)) == ALARM


def test_low_sample_percentiles_keep_the_state_when_ignored():
    p99 = rule(statistic="p99", ignore_low_samples=True)
    few = [Point(NOW - NOW % MINUTE, 10.0, 99.0)]
    many = [Point(NOW - NOW % MINUTE, 10.0, 100.0)]
    assert state(p99, few) is None
    assert state(p99, many) == ALARM
    assert state(rule(statistic="p99"), few) == ALARM


def test_reasons_are_worded_as_cloudwatch_words_them():
    minute = T0 + 10 * MINUTE
    single = evaluate(rule(), [Point(minute, 5.0, 1.0)], now_ms=NOW, current=OK)
    assert single is not None
    assert single.reason == (
        "Threshold Crossed: 1 datapoint [5.0 (06/12/26 10:10:00)] was greater than the threshold (3.0)."
    )
    calm = evaluate(rule(), [Point(minute, 1.0, 2.0)], now_ms=NOW, current=ALARM)
    assert calm is not None and calm.state == OK
    assert calm.reason == (
        "Threshold Crossed: 1 datapoint [1.0 (06/12/26 10:10:00)] was not greater than the threshold (3.0)."
    )
    assert calm.reason_data == {
        "version": "1.0",
        "queryDate": "2026-12-06T10:10:05.000+0000",
        "startDate": "2026-12-06T10:10:00.000+0000",
        "statistic": "Average",
        "period": 60,
        "recentDatapoints": [1.0],
        "threshold": 3.0,
        "evaluatedDatapoints": [{"timestamp": "2026-12-06T10:10:00.000+0000", "sampleCount": 2.0, "value": 1.0}],
    }
    several = evaluate(rule(n=3, m=2), points(5, 1, 4), now_ms=NOW, current=OK)
    assert several is not None
    assert several.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [4.0 (06/12/26 10:10:00), 5.0 (06/12/26 10:08:00)]"
        " were greater than the threshold (3.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    unknown = evaluate(rule(n=2), [], now_ms=NOW, current=OK)
    assert unknown is not None and unknown.reason == "Insufficient Data: 2 datapoints were unknown."
    filled = evaluate(rule(treat="breaching"), [], now_ms=NOW, current=OK)
    assert filled is not None
    assert filled.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as"
        " [Breaching]."
    )


def test_iso_time():
    assert iso_time(T0 + 1_234) == "2026-12-06T10:00:01.234+0000"
