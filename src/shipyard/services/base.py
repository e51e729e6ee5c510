"""What every service shares: the per-request context and the operation registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shipyard.aws.wire import WireRequest

if TYPE_CHECKING:
    from shipyard.iam.callers import Caller
    from shipyard.server.runtime import Runtime

Output = dict[str, Any]
Handler = Callable[["RequestContext", dict[str, Any]], Awaitable[Output]]


@dataclass
class RequestContext:
    """Who is asking, where, and with access to the server's shared parts."""

    request_id: str
    region: str
    account_id: str
    request: WireRequest
    host: str
    runtime: Runtime
    #: Who made the request: the principal a verified key stands for, or the anonymous caller.
    caller: Caller
    #: For per-resource operations: the resource ARNs the caller may not act on.
    denied_resources: frozenset[str] = frozenset()
    #: ``time.perf_counter()`` when the gateway began reading the request.
    started: float = 0.0

    @property
    def principal_arn(self) -> str | None:
        """The caller's ARN; None for an anonymous (unsigned) request."""
        return None if self.caller.is_anonymous else self.caller.principal.arn


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
        #: Input members a handler checks itself (with the service's own error codes)
        #: instead of the gateway's model validation.
        self.self_validated: dict[str, frozenset[str]] = {}
        #: Operations that answer per resource (DeleteObjects): a denied resource is an
        #: error entry in the result, not a refusal of the whole request.
        self.per_resource: set[str] = set()

    def operation(
        self, name: str, *, validates: Iterable[str] = (), per_resource: bool = False
    ) -> Callable[[Handler], Handler]:
        """Register a handler for ``name``.

        ``validates`` names the input members the handler checks itself; with
        ``per_resource`` the handler gets the denied resources in
        ``RequestContext.denied_resources`` instead of the request being refused.
        """

        def register(handler: Handler) -> Handler:
            if name in self.handlers:
                raise ValueError(f"{self.service_name}.{name} registered twice")
            self.handlers[name] = handler
            self.self_validated[name] = frozenset(validates)
            if per_resource:
                self.per_resource.add(name)
            return handler

        return register

    def include(self, other: ServiceRouter) -> None:
        """Adopt every handler of ``other`` (a service split over several modules)."""
        for name, handler in other.handlers.items():
            self.operation(name, validates=other.self_validated[name], per_resource=name in other.per_resource)(
                handler
            )
