"""Amazon CloudWatch Logs: log groups, streams and events over :class:`shipyard.logs.LogStore`."""

from shipyard.services.base import ServiceRouter
from shipyard.services.logs import (
    filter_events,
    get_events,
    groups,
    put_events,
    streams,
    tags,
)

router = ServiceRouter("logs")
for _module in (groups, streams, put_events, get_events, filter_events, tags):
    router.include(_module.router)

__all__ = ["router"]
