"""The log store behind CloudWatch Logs: groups, streams and their events, in SQL.

Handlers in ``shipyard.services.logs`` and the job runner (through :meth:`LogStore.append`)
both write here. Events older than a group's retention are never returned and are deleted
the next time the group is written to.
"""

from shipyard.logs.records import (
    LogEvent,
    LogGroup,
    LogStream,
    Position,
    StreamOrder,
    group_arn,
)
from shipyard.logs.store import LogStore

__all__ = ["LogEvent", "LogGroup", "LogStore", "LogStream", "Position", "StreamOrder", "group_arn"]
