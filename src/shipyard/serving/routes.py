"""Where an endpoint's traffic can go right now: a snapshot the fleet publishes for the
data plane (``InvokeEndpoint``).

The fleet (:mod:`shipyard.serving.fleet`) replaces an endpoint's :class:`EndpointRoute`
whenever an instance becomes healthy or goes away, weights change or an update switches
configs; the data plane reads the current snapshot per request and never waits on a lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InstanceRoute:
    """One healthy instance of a variant: where its worker listens."""

    instance_id: str
    #: ``http://127.0.0.1:<port>``; POST ``/invocations`` there.
    url: str
    #: The instance's log stream (``<variant>/<instance id>``) in the endpoint's log group.
    log_stream: str


@dataclass(frozen=True)
class VariantRoute:
    """A production variant: its current weight and its healthy instances."""

    name: str
    weight: float
    instances: tuple[InstanceRoute, ...]


@dataclass(frozen=True)
class EndpointRoute:
    """An endpoint as the data plane sees it."""

    name: str
    arn: str
    #: The endpoint's status (InService, Updating, RollingBack...); requests are served in
    #: any status as long as some variant has a healthy instance.
    status: str
    variants: tuple[VariantRoute, ...]
    #: The ``DataCaptureConfig`` of the config being served (None: no capture).
    data_capture: dict[str, Any] | None = None
    #: ``/aws/sagemaker/Endpoints/<name>``.
    log_group: str = ""
    #: The endpoint config being served.
    config_name: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
