"""CloudTrail ``LookupEvents``: the audit trail, one attribute and a time range at a time."""

from __future__ import annotations

from typing import Any

from shipyard.audit import Attribute, LookupQuery
from shipyard.errors import AwsError
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.services.cloudtrail import tokens
from shipyard.services.cloudtrail.records import lookup_entry

router = ServiceRouter("cloudtrail")

MAX_RESULTS = 50
_INSIGHT = "insight"


@router.operation("LookupEvents", validates=("MaxResults", "EventCategory", "LookupAttributes"))
async def lookup_events(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    query = _query(params)
    limit = params.get("MaxResults") or MAX_RESULTS
    if not 1 <= limit <= MAX_RESULTS:
        raise AwsError(
            "InvalidMaxResultsException",
            f"MaxResults must be between 1 and {MAX_RESULTS}.",
            400,
        )
    category = params.get("EventCategory")
    if category is not None and category != _INSIGHT:
        raise AwsError(
            "InvalidEventCategoryException", f"Invalid EventCategory: {category}.", 400
        )
    after = (
        tokens.decode(params["NextToken"], query) if params.get("NextToken") else None
    )
    if category == _INSIGHT:
        # Shipyard raises no Insights events: the management events are all there is.
        return {"Events": []}
    page = await ctx.runtime.audit.lookup(query, limit=limit, after=after)
    output: dict[str, Any] = {
        "Events": [lookup_entry(event, ctx.account_id) for event in page.events]
    }
    if page.next is not None:
        output["NextToken"] = tokens.encode(page.next, query)
    return output


def _query(params: dict[str, Any]) -> LookupQuery:
    start, end = params.get("StartTime"), params.get("EndTime")
    if start is not None and end is not None and start > end:
        raise AwsError(
            "InvalidTimeRangeException", "Start time must be before end time.", 400
        )
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise AwsError(
            "InvalidLookupAttributesException",
            "You can specify only one lookup attribute.",
            400,
        )
    if not attributes:
        return LookupQuery(start=start, end=end)
    key, value = attributes[0].get("AttributeKey"), attributes[0].get("AttributeValue")
    try:
        attribute = Attribute(key)
    except ValueError:
        raise AwsError(
            "InvalidLookupAttributesException",
            f"Invalid lookup attribute key: {key}.",
            400,
        ) from None
    if attribute is Attribute.READ_ONLY and value not in ("true", "false"):
        raise AwsError(
            "InvalidLookupAttributesException",
            "The value of the ReadOnly attribute must be true or false.",
            400,
        )
    return LookupQuery(attribute=attribute, value=value, start=start, end=end)
