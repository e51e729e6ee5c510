"""What the log store holds, as immutable values."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DAY_MS = 86_400_000


def group_arn(region: str, account_id: str, name: str) -> str:
    """``arn:aws:logs:<region>:<account>:log-group:<name>`` (no ``:*``)."""
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


@dataclass(frozen=True, order=True)
class Position:
    """An event's place in read order: its timestamp, then its insertion sequence."""

    timestamp_ms: int
    seq: int


@dataclass(frozen=True)
class LogGroup:
    """A log group of one region."""

    id: int
    region: str
    name: str
    created_ms: int
    retention_days: int | None
    tags: dict[str, str]

    def arn(self, account_id: str) -> str:
        """The group's ARN (see :func:`group_arn`)."""
        return group_arn(self.region, account_id, self.name)

    def oldest_kept_ms(self, now_ms: int) -> int | None:
        """The earliest timestamp retention still keeps, or None when events never expire."""
        return None if self.retention_days is None else now_ms - self.retention_days * DAY_MS


@dataclass(frozen=True)
class LogStream:
    """A stream and the summary of the events appended to it."""

    name: str
    created_ms: int
    first_event_ms: int | None
    last_event_ms: int | None
    last_ingestion_ms: int | None
    #: Bumped by every append; shown as ``uploadSequenceToken`` (which AWS no longer checks).
    sequence: int


@dataclass(frozen=True)
class LogEvent:
    """One stored event."""

    seq: int
    stream_name: str
    timestamp_ms: int
    ingestion_ms: int
    message: str

    @property
    def position(self) -> Position:
        return Position(self.timestamp_ms, self.seq)


class StreamOrder(StrEnum):
    """DescribeLogStreams' ``orderBy``."""

    NAME = "LogStreamName"
    LAST_EVENT_TIME = "LastEventTime"


def row_group(row: Any) -> LogGroup:
    """The :class:`LogGroup` of a ``log_groups`` row."""
    return LogGroup(row.id, row.region, row.name, row.created_ms, row.retention_days, dict(row.tags))


def row_stream(row: Any) -> LogStream:
    """The :class:`LogStream` of a ``log_streams`` row."""
    return LogStream(
        row.name, row.created_ms, row.first_event_ms, row.last_event_ms, row.last_ingestion_ms, row.sequence
    )
