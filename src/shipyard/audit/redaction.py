"""Request parameters as the audit trail keeps them: secrets hidden, bodies left out.

As CloudTrail does, a secret's value is replaced by ``HIDDEN_DUE_TO_SECURITY_REASONS``.
A member is secret when the service model marks its shape ``sensitive`` (IAM passwords,
S3 SSE-C keys, STS assertions...) or when its name is one of the well-known secret names
below, whatever the service. Binary and streaming members (``PutObject``/``UploadPart``
bodies, ``InvokeEndpoint`` payloads) are never recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.model import Shape

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

#: Names (lowercase, without ``-`` and ``_``) whose values are secret in any service.
_SECRET_NAMES = frozenset(
    {
        "secretaccesskey",
        "password",
        "newpassword",
        "oldpassword",
        "sessiontoken",
        "securitytoken",
        "xamzsecuritytoken",
        "privatekey",
        "secretkey",
        "clientsecret",
        "secretstring",
        "secretbinary",
        "ssecustomerkey",
        "copysourcessecustomerkey",
        "xamzserversideencryptioncustomerkey",
        "xamzcopysourceserversideencryptioncustomerkey",
        "authorization",
    }
)

_SCALARS = (str, int, float, bool)

#: What :func:`_value` answers for a value the trail does not keep.
_OMIT = object()


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret in every service."""
    return name.lower().replace("-", "").replace("_", "") in _SECRET_NAMES


def redact(params: Mapping[str, Any], shape: Shape | None = None) -> dict[str, Any]:
    """``params`` as JSON-ready values, secrets hidden and bodies left out.

    ``shape`` is the operation's input shape; without it only secret names are known.
    """
    return _structure(params, shape)


def _structure(params: Mapping[str, Any], shape: Shape | None) -> dict[str, Any]:
    members = getattr(shape, "members", {}) if shape is not None else {}
    out: dict[str, Any] = {}
    for name, value in params.items():
        member = members.get(name)
        if value is None or _is_body(member):
            continue
        if is_secret_name(name) or (
            member is not None and member.metadata.get("sensitive")
        ):
            out[name] = HIDDEN
            continue
        kept = _value(value, member)
        if kept is not _OMIT:
            out[name] = kept
    return out


def _value(value: Any, shape: Shape | None) -> Any:
    if isinstance(value, Mapping):
        if shape is not None and shape.type_name == "map":
            return {
                str(k): v
                for k, v in ((k, _value(v, shape.value)) for k, v in value.items())
                if v is not _OMIT
            }
        return _structure(value, shape)
    if isinstance(value, (list, tuple)):
        item = shape.member if shape is not None and shape.type_name == "list" else None
        return [v for v in (_value(v, item) for v in value) if v is not _OMIT]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON (and PostgreSQL's json type) has no NaN or Infinity
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return _OMIT


def _is_body(member: Shape | None) -> bool:
    """A binary member: a request body (streaming or not) or bytes no audit reader could use."""
    return member is not None and member.type_name == "blob"
