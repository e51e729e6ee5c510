"""One audited API call, and who made it as CloudTrail names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Calls CloudTrail does not record ("CloudTrail does not monitor calls to InvokeEndpoint"):
#: the inference data plane, whose every call would otherwise cost a durable write.
UNRECORDED = frozenset(
    {
        ("sagemaker-runtime", "InvokeEndpoint"),
        ("sagemaker-runtime", "InvokeEndpointAsync"),
        ("sagemaker-runtime", "InvokeEndpointWithResponseStream"),
        # CloudWatch's metric data calls are CloudTrail data events, not recorded by default.
        ("cloudwatch", "PutMetricData"),
        ("cloudwatch", "GetMetricData"),
        ("cloudwatch", "GetMetricStatistics"),
        ("cloudwatch", "ListMetrics"),
    }
)


def recorded(service: str | None, operation: str | None) -> bool:
    """Whether the audit trail records a call of ``operation`` of ``service``."""
    return (service, operation) not in UNRECORDED


@dataclass(frozen=True)
class AuditEvent:
    """What the audit trail keeps of one request, allowed or refused.

    ``service`` is the botocore service name and ``event_source`` CloudTrail's
    ``<signing name>.amazonaws.com``; ``operation`` is CloudTrail's event name (None when
    the request never named one the server knows). ``parameters`` are the request's
    parameters with secrets redacted (see :func:`shipyard.audit.redaction.redact`), or
    None when the request was refused before they were parsed.
    """

    event_id: str
    time: datetime
    request_id: str
    service: str | None
    event_source: str | None
    operation: str | None
    principal_arn: str | None
    principal_kind: str | None
    username: str | None
    access_key_id: str | None
    source_ip: str
    user_agent: str | None
    region: str
    resources: tuple[str, ...] = ()
    parameters: Mapping[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    read_only: bool = False
    principal_id: str | None = None

