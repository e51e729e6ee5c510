"""Model Monitor's ``ScheduleExpression``: the cron expressions it accepts, and ``NOW``.

Model Monitor runs at most hourly, on the hour (UTC), so it accepts only the six-field cron
expressions whose minute is ``0`` and which repeat every day: hourly ``cron(0 * ? * * *)``,
daily ``cron(0 H ? * * *)``, every N hours ``cron(0 H/N ? * * *)`` or ``cron(0 */N ? * * *)``,
and lists of hours ``cron(0 1,13 ? * * *)``. ``NOW`` makes a one-time schedule that runs
once, at once, over ``DataAnalysisStartTime`` .. ``DataAnalysisEndTime``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import AwsError

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
NOW = "NOW"

_CRON = re.compile(r"cron\((.*)\)")


@dataclass(frozen=True)
class ScheduleExpression:
    """A parsed ``ScheduleExpression``: the UTC hours it fires at, or one-time (``NOW``)."""

    text: str
    #: The hours of the day (0..23) at whose start it fires; empty for ``NOW``.
    hours: frozenset[int]

    @property
    def one_time(self) -> bool:
        return not self.hours

    @classmethod
    def parse(cls, text: str) -> ScheduleExpression:
        """``text`` checked as Model Monitor checks it (``ValidationException`` otherwise)."""
        if text.strip() == NOW:
            return cls(NOW, frozenset())
        match = _CRON.fullmatch(text.strip())
        fields = match.group(1).split() if match else []
        if len(fields) != 6:
            raise _invalid(text, "it must be NOW or cron(Minutes Hours Day-of-month Month Day-of-week Year)")
        minute, hour, day, month, weekday, year = fields
        if minute not in ("0", "00"):
            raise _invalid(text, "the minutes field must be 0 (schedules run at the start of an hour)")
        if not ((day == "?" and weekday in ("*", "?")) or (day in ("*", "?") and weekday == "?")):
            raise _invalid(text, "it must run every day: Day-of-month ? with Day-of-week * (or the reverse)")
        if month != "*" or year != "*":
            raise _invalid(text, "the Month and Year fields must be *")
        return cls(text.strip(), _hours(text, hour))

    def next_after(self, after_ms: int) -> int | None:
        """The first time it fires strictly after ``after_ms`` (epoch ms); None for ``NOW``."""
        if self.one_time:
            return None
        hour_start = after_ms - after_ms % HOUR_MS
        for step in range(1, 25):
            candidate = hour_start + step * HOUR_MS
            if (candidate % DAY_MS) // HOUR_MS in self.hours:
                return candidate
        raise AssertionError("a parsed schedule fires every day")


def _hours(text: str, field: str) -> frozenset[int]:
    """The hours a cron hours field names: ``*``, ``H``, ``H,H``, ``H/N``, ``*/N``, ``A-B``."""
    hours: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = _number(text, step_text, 1, 24) if step_text else 1
        if base == "*":
            first, last = 0, 23
        elif "-" in base:
            low, _, high = base.partition("-")
            first, last = _number(text, low, 0, 23), _number(text, high, 0, 23)
            if first > last:
                raise _invalid(text, f"the hour range {base} is empty")
        else:
            first = _number(text, base, 0, 23)
            last = 23 if step_text else first
        hours.update(range(first, last + 1, step))
    return frozenset(hours)


def _number(text: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise _invalid(text, f"{value!r} is not a number from {low} to {high}")
    return int(value)


def _invalid(text: str, why: str) -> AwsError:
    return AwsError("ValidationException", f"Invalid ScheduleExpression {text!r}: {why}.")
