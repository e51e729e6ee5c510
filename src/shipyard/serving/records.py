"""Models, endpoint configs and endpoints as the server keeps them: rows of ``hosting``.

``request`` is the Create* request as the client sent it (JSON-safe); ``details`` what the
resource became. Models and endpoint configs never change after creation; an endpoint's
``details`` keys:

- ``config``: the endpoint config being served; ``pending_config``: the one an update
  rolls out (until it is InService or rolled back); ``previous_config``: the one served
  before the last update finished;
- ``variants``: ``{variant: {"desired_weight", "current_weight", "desired_count",
  "current_count", "instance_type", "model", "instances": {instance id: Instance dict}}}``
  for the served config, and ``pending_variants`` likewise for an update's;
- ``failure_reason``; ``update_failure`` (why the last update was rolled back);
- ``deleting``: set by DeleteEndpoint, acted on by the fleet.

An instance dict: ``{"handle": HostHandle dict or None, "port", "resources": Resources
dict, "stream": log stream name, "output": offset read of output.log, "healthy": bool}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HostingKind = Literal["model", "endpoint-config", "endpoint"]

#: Endpoint statuses, as SageMaker names them.
CREATING = "Creating"
IN_SERVICE = "InService"
UPDATING = "Updating"
SYSTEM_UPDATING = "SystemUpdating"
ROLLING_BACK = "RollingBack"
FAILED = "Failed"
DELETING = "Deleting"
UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"


@dataclass
class HostingRecord:
    """One model, endpoint config or endpoint."""

    id: int
    kind: HostingKind
    region: str
    name: str
    arn: str
    #: Endpoints: their EndpointStatus; models and configs: "Created".
    status: str
    request: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0
