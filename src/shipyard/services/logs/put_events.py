"""PutLogEvents: AWS's batch rules, and the events it sets aside rather than refuses."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from shipyard.errors import AwsError
from shipyard.logs.events import event_size
from shipyard.logs.records import DAY_MS
from shipyard.services.base import RequestContext, ServiceRouter

router = ServiceRouter("logs")

MAX_BATCH_BYTES = 1_048_576
MAX_AGE_MS = 14 * DAY_MS
MAX_AHEAD_MS = 2 * 3_600_000
MAX_SPAN_MS = DAY_MS


@router.operation("PutLogEvents")
async def put_log_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    # ``sequenceToken`` is accepted and ignored, as AWS has done since January 2023.
    batch = [(event["timestamp"], event["message"]) for event in params["logEvents"]]
    size = sum(event_size(message) for _, message in batch)
    if size > MAX_BATCH_BYTES:
        raise AwsError(
            "InvalidParameterException", f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}", 400
        )
    if any(later[0] < earlier[0] for earlier, later in pairwise(batch)):
        raise AwsError(
            "InvalidParameterException",
            "Log events in a single PutLogEvents request must be in chronological order.",
            400,
        )
    store = ctx.runtime.logs
    group = await store.group(ctx.region, params["logGroupName"])
    rejected, accepted = _set_aside([ts for ts, _ in batch], store.now_ms(), group.oldest_kept_ms(store.now_ms()))
    kept = batch[accepted.start : accepted.stop]
    if kept and kept[-1][0] - kept[0][0] > MAX_SPAN_MS:
        raise AwsError(
            "InvalidParameterException",
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
            400,
        )
    sequence = await store.append(
        params["logGroupName"], params["logStreamName"], kept, create=False, region=ctx.region
    )
    output: dict[str, Any] = {"nextSequenceToken": str(sequence)}
    if rejected:
        output["rejectedLogEventsInfo"] = rejected
    return output


def _set_aside(timestamps: Sequence[int], now_ms: int, oldest_kept_ms: int | None) -> tuple[dict[str, int], range]:
    """``rejectedLogEventsInfo`` for chronological ``timestamps``, and the range of those accepted.

    Too old (over 14 days) and expired (before the retention) events are a prefix, each reported
    by its exclusive end; too new ones (over 2 hours ahead) a suffix, reported by its first index.
    """
    too_old = sum(1 for ts in timestamps if ts < now_ms - MAX_AGE_MS)
    expired = 0 if oldest_kept_ms is None else sum(1 for ts in timestamps if ts < oldest_kept_ms)
    too_new = sum(1 for ts in timestamps if ts > now_ms + MAX_AHEAD_MS)
    first_new = len(timestamps) - too_new
    rejected = {}
    if too_old:
        rejected["tooOldLogEventEndIndex"] = too_old
    if expired:
        rejected["expiredLogEventEndIndex"] = expired
    if too_new:
        rejected["tooNewLogEventStartIndex"] = first_new
    return rejected, range(min(max(too_old, expired), first_new), first_new)
