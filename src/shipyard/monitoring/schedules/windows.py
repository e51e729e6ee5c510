"""The analysis window of a monitoring execution, and the capture folders that cover it.

An execution scheduled at time T analyses the hour before it, ``[T - 1 h, T)``, unless its
endpoint input gives ``StartTimeOffset`` / ``EndTimeOffset`` (negative ISO 8601 durations
such as ``-PT1H`` or ``-P1D``, relative to T). A one-time (``NOW``) schedule's
``DataAnalysisStartTime`` / ``DataAnalysisEndTime`` are offsets of the same form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from shipyard.errors import AwsError

HOUR_MS = 3_600_000

_DURATION = re.compile(r"-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")


def parse_offset(text: str, what: str) -> int:
    """A negative ISO 8601 duration (``-PT1H``, ``-P1DT12H``...) in milliseconds (<= 0)."""
    match = _DURATION.fullmatch(text or "")
    if not match or text in ("-P", "-PT") or text.endswith("T"):
        raise AwsError(
            "ValidationException",
            f"{what} {text!r} is not a valid offset: use a negative ISO 8601 duration such as -PT1H or -P1D.",
        )
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return -1000 * (((days * 24 + hours) * 60 + minutes) * 60 + seconds)


@dataclass(frozen=True)
class Window:
    """``[start_ms, end_ms)``: the capture records an execution analyses."""

    start_ms: int
    end_ms: int

    @classmethod
    def around(cls, at_ms: int, start_offset: str | None, end_offset: str | None) -> Window:
        """The window of an execution at ``at_ms`` with these offsets (default the hour before)."""
        start = at_ms + (parse_offset(start_offset, "StartTimeOffset") if start_offset else -HOUR_MS)
        end = at_ms + (parse_offset(end_offset, "EndTimeOffset") if end_offset else 0)
        return cls(start, end)

    def hours(self) -> list[datetime]:
        """The start of every UTC hour the window touches (capture folders are per hour)."""
        first = self.start_ms - self.start_ms % HOUR_MS
        return [datetime.fromtimestamp(ms / 1000, UTC) for ms in range(first, max(self.end_ms, first + 1), HOUR_MS)]


def check_offsets(start_offset: str | None, end_offset: str | None, what: str = "") -> None:
    """``ValidationException`` unless both offsets parse and the start comes before the end."""
    start = parse_offset(start_offset, f"{what}StartTimeOffset") if start_offset else -HOUR_MS
    end = parse_offset(end_offset, f"{what}EndTimeOffset") if end_offset else 0
    if start >= end:
        raise AwsError(
            "ValidationException",
            f"{what}StartTimeOffset ({start_offset or '-PT1H'}) must come before {what}EndTimeOffset "
            f"({end_offset or '-PT0H'}).",
        )


def iso(ms: int) -> str:
    """``2026-12-06T10:00:00Z``: how the analyzer is given times."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
