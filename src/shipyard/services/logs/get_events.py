"""GetLogEvents: one stream, read forward or backward with ``f/`` and ``b/`` tokens.

A forward token ``f/<position>`` reads the events after a position, a backward token
``b/<position>`` the events before it. Reading past either end answers the token it was
given, which is how the SDKs know to stop (or, following a live stream, to wait).
"""

from __future__ import annotations

from typing import Any

from shipyard.errors import AwsError
from shipyard.logs import LogEvent, Position
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.logs import tokens
from shipyard.services.logs.names import group_name

router = ServiceRouter("logs")

MAX_EVENTS = 10_000
MAX_BYTES = 1_048_576
#: Before and after every stored event: where reading starts from either end of a stream.
_HEAD = Position(0, 0)
_TAIL = Position(10**20 - 1, 10**20 - 1)


@router.operation("GetLogEvents")
async def get_log_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    start, end = params.get("startTime"), params.get("endTime")
    if start is not None and end is not None and start > end:
        raise AwsError("InvalidParameterException", "startTime must be less than or equal to endTime.", 400)
    token = params.get("nextToken")
    if token:
        forward, boundary = _parse(token)
    else:
        forward, boundary = bool(params.get("startFromHead")), None
    events = await ctx.runtime.logs.read(
        ctx.region,
        group_name(params),
        params["logStreamName"],
        start_ms=start,
        end_ms=end,
        boundary=boundary,
        forward=forward,
        limit=params.get("limit") or MAX_EVENTS,
        max_bytes=MAX_BYTES,
    )
    output: dict[str, Any] = {"events": [_event(event) for event in events]}
    if events:
        output["nextForwardToken"] = _token("f", events[-1].position)
        output["nextBackwardToken"] = _token("b", events[0].position)
    elif boundary is None:
        output["nextForwardToken"], output["nextBackwardToken"] = _token("f", _HEAD), _token("b", _TAIL)
    elif forward:
        # Nothing after the boundary: the same forward token, and a backward one that includes it.
        output["nextForwardToken"] = token
        output["nextBackwardToken"] = _token("b", Position(boundary.timestamp_ms, boundary.seq + 1))
    else:
        output["nextForwardToken"] = _token("f", Position(boundary.timestamp_ms, max(boundary.seq - 1, 0)))
        output["nextBackwardToken"] = token
    return output


def _parse(token: str) -> tuple[bool, Position]:
    direction, _, rest = token.partition("/")
    digits, _, suffix = rest.partition("/")
    if direction not in ("f", "b") or suffix != "s":
        raise tokens.invalid_token()
    return direction == "f", tokens.from_digits(digits)


def _token(direction: str, position: Position) -> str:
    return f"{direction}/{tokens.digits(position)}/s"


def _event(event: LogEvent) -> dict[str, Any]:
    return {"timestamp": event.timestamp_ms, "message": event.message, "ingestionTime": event.ingestion_ms}
