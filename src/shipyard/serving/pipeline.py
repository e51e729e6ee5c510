"""How a request passes a model's containers: through each in turn (Serial) or to one (Direct)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from shipyard.algorithms.errors import InferenceError
from shipyard.serving.invocation import Container, Request, Response
from shipyard.serving.spec import InferenceMode


class Pipeline:
    """A model's containers, in order, with their ``ContainerHostname`` names."""

    def __init__(self, mode: InferenceMode, containers: Sequence[Container], hostnames: Sequence[str]) -> None:
        self.mode = mode
        self.containers = list(containers)
        self._by_hostname = dict(zip(hostnames, self.containers, strict=True))

    def invoke(self, request: Request, target: str | None = None) -> Response:
        """Answer ``request``; ``target`` is ``TargetContainerHostname`` (Direct mode only).

        Serial: each container's response is the next one's request (its content type the
        next Content-Type); only the last container gets the caller's Accept, as the ones
        before it answer in their own default type for the next.
        """
        if self.mode == "Direct":
            return self.select(target).invoke(request)
        if target:
            raise InferenceError(400, "TargetContainerHostname is only valid for an endpoint in Direct inference mode.")
        *first, last = self.containers
        for container in first:
            response = container.invoke(replace(request, accept=None))
            request = replace(request, body=response.body, content_type=response.content_type)
        return last.invoke(request)

    def select(self, target: str | None) -> Container:
        """The container ``target`` names in Direct mode (400 when missing or unknown)."""
        if not target:
            raise InferenceError(
                400,
                "The endpoint's inference mode is Direct: name a container with TargetContainerHostname "
                f"(one of: {', '.join(self._by_hostname)}).",
            )
        try:
            return self._by_hostname[target]
        except KeyError:
            raise InferenceError(
                400,
                f"No container named {target!r} in the endpoint; TargetContainerHostname must be one of: "
                f"{', '.join(self._by_hostname)}.",
            ) from None

    def close(self) -> None:
        """Close every container."""
        for container in self.containers:
            container.close()
