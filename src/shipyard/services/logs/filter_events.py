"""FilterLogEvents: a group's events matching a term pattern, interleaved by time across streams."""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.logs import LogEvent, Position
from shipyard.logs.patterns import parse
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.logs import tokens
from shipyard.services.logs.names import group_name

router = ServiceRouter("logs")

MAX_EVENTS = 10_000
#: Events read from the database per round while looking for matches.
_CHUNK = 1_000
#: Events examined per request at most; past that the page ends early, with a ``nextToken``.
_SCAN_BUDGET = 100_000


@router.operation("FilterLogEvents")
async def filter_log_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    group = group_name(params)
    names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
    if names is not None and prefix is not None:
        raise AwsError(
            "InvalidParameterException", "You cannot specify both LogStreamNames and LogStreamNamePrefix.", 400
        )
    start, end = params.get("startTime"), params.get("endTime")
    if start is not None and end is not None and start > end:
        raise AwsError("InvalidParameterException", "startTime must be less than or equal to endTime.", 400)
    pattern = parse(params.get("filterPattern"))
    limit = params.get("limit") or MAX_EVENTS
    after = None
    if params.get("nextToken"):
        payload = tokens.decode(params["nextToken"], t=int, s=int)
        after = Position(payload["t"], payload["s"])
    matched: list[LogEvent] = []
    searched: list[str] = []
    scanned, exhausted = 0, False
    while len(matched) < limit and scanned < _SCAN_BUDGET:
        chunk, searched = await ctx.runtime.logs.scan(
            ctx.region,
            group,
            stream_names=names,
            stream_prefix=prefix,
            start_ms=start,
            end_ms=None if end is None else end + 1,
            after=after,
            limit=_CHUNK,
        )
        consumed = 0
        for event in chunk:
            consumed += 1
            after = event.position
            if pattern.matches(event.message):
                matched.append(event)
                if len(matched) == limit:
                    break
        scanned += consumed
        if len(chunk) < _CHUNK and consumed == len(chunk):
            exhausted = True
            break
    output: dict[str, Any] = {
        "events": [_event(event) for event in matched],
        "searchedLogStreams": [{"logStreamName": name, "searchedCompletely": exhausted} for name in searched],
    }
    if not exhausted and after is not None:
        output["nextToken"] = tokens.encode({"t": after.timestamp_ms, "s": after.seq})
    return output


def _event(event: LogEvent) -> dict[str, Any]:
    return {
        "logStreamName": event.stream_name,
        "timestamp": event.timestamp_ms,
        "message": event.message,
        "ingestionTime": event.ingestion_ms,
        "eventId": tokens.digits(event.position),
    }
