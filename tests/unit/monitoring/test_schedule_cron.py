"""Model Monitor's ScheduleExpression: the cron forms it accepts, when each fires next, and
the expressions it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipyard.errors import AwsError
from shipyard.monitoring.schedules.cron import ScheduleExpression


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("cron(0 * ? * * *)", set(range(24))),
        ("cron(0 0 ? * * *)", {0}),
        ("cron(0 13 ? * * *)", {13}),
        ("cron(0 */6 ? * * *)", {0, 6, 12, 18}),
        ("cron(0 2/12 ? * * *)", {2, 14}),
        ("cron(0 1,13 ? * * *)", {1, 13}),
        ("cron(0 8-10 * * ? *)", {8, 9, 10}),
    ],
)
def test_accepted_expressions_fire_at_their_hours(text: str, hours: set[int]) -> None:
    expression = ScheduleExpression.parse(text)
    assert expression.hours == hours
    assert not expression.one_time


def test_next_after_is_the_next_listed_hour_start_strictly_after() -> None:
    hourly = ScheduleExpression.parse("cron(0 * ? * * *)")
    assert hourly.next_after(ms("2026-12-06T10:20:00")) == ms("2026-12-06T11:00:00")
    assert hourly.next_after(ms("2026-12-06T11:00:00")) == ms("2026-12-06T12:00:00")
    daily = ScheduleExpression.parse("cron(0 0 ? * * *)")
    assert daily.next_after(ms("2026-12-06T10:20:00")) == ms("2026-12-07T00:00:00")
    every_six = ScheduleExpression.parse("cron(0 */6 ? * * *)")
    assert every_six.next_after(ms("2026-12-31T19:00:00")) == ms("2027-01-01T00:00:00")


def test_now_is_a_one_time_schedule() -> None:
    expression = ScheduleExpression.parse("NOW")
    assert expression.one_time
    assert expression.next_after(ms("2026-12-06T10:00:00")) is None


@pytest.mark.parametrize(
    "text",
    [
        "rate(1 hour)",
        "cron(0 * * * *)",  # five fields
        "cron(30 * ? * * *)",  # not on the hour
        "cron(0 * ? * MON *)",  # not every day
        "cron(0 * ? 1 * *)",  # one month only
        "cron(0 24 ? * * *)",
        "cron(0 */0 ? * * *)",
        "cron(0 10-8 ? * * *)",
        "cron(0 x ? * * *)",
        "",
    ],
)
def test_other_expressions_are_refused(text: str) -> None:
    with pytest.raises(AwsError) as raised:
        ScheduleExpression.parse(text)
    assert raised.value.code == "ValidationException"
    assert "ScheduleExpression" in raised.value.message
