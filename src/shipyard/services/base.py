"""What every service shares: the per-request context and the operation registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.aws.wire import WireRequest

if TYPE_CHECKING:
    from shipyard.server.runtime import Runtime

Output = dict[str, Any]
Handler = Callable[["RequestContext", dict[str, Any]], Awaitable[Output]]


@dataclass
class RequestContext:
    """Who is asking, where, and with access to the server's shared parts."""

    request_id: str
    region: str
    account_id: str
    access_key: str | None
    principal_arn: str | None
    request: WireRequest
    host: str
    runtime: Runtime


class ServiceRouter:
    """Maps a service's operation names to handler coroutines.

    A service module creates one router and decorates its handlers::

        router = ServiceRouter("s3")

        @router.operation("ListBuckets")
        async def list_buckets(ctx, params): ...
    """

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name
        self.handlers: dict[str, Handler] = {}

    def operation(self, name: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"{self.service_name}.{name} registered twice")
            self.handlers[name] = handler
            return handler

        return register

    def include(self, other: ServiceRouter) -> None:
        """Adopt every handler of ``other`` (a service split over several modules)."""
        for name, handler in other.handlers.items():
            self.operation(name)(handler)
