"""One audited API call, and who made it as CloudTrail names them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


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


def principal_kind(arn: str | None) -> str | None:
    """``root``, ``user``, ``assumed-role`` or ``anonymous`` for a principal ARN (None if unknown)."""
    if arn is None:
        return None
    if arn == "*":
        return "anonymous"
    resource = arn.split(":", 5)[-1]
    if resource == "root":
        return "root"
    return (
        resource.split("/", 1)[0]
        if resource.startswith(("user/", "assumed-role/"))
        else None
    )


def username(arn: str | None) -> str | None:
    """CloudTrail's ``Username`` for a principal: the user's name, the role session's, or ``root``."""
    kind = principal_kind(arn)
    if kind == "root":
        return "root"
    if kind in ("user", "assumed-role"):
        assert arn is not None
        return arn.rsplit("/", 1)[-1]
    return None
