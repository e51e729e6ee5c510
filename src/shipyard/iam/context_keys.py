"""The global condition keys of a request (``aws:...``), as AWS fills them in.

Keys about the principal depend only on the caller; keys about the request (time, source
address, transport) are made per request. Operation-specific keys (``s3:prefix``,
``aws:RequestTag/...``) come from the action table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from shipyard.iam.callers import Caller

_PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole", "anonymous": "Anonymous"}


@dataclass(frozen=True)
class RequestFacts:
    """What the transport says about a request."""

    source_ip: str
    secure_transport: bool
    user_agent: str | None
    region: str


ContextValues = dict[str, tuple[str, ...]]


def principal_keys(caller: Caller) -> ContextValues:
    """``aws:PrincipalArn``, ``aws:userid``, ``aws:username``, ``aws:PrincipalTag/*`` ...

    For a role session ``aws:PrincipalArn`` is the role's ARN, as in AWS; anonymous
    callers have none of these keys.
    """
    principal = caller.principal
    if principal.kind == "anonymous":
        return {}
    keys = {
        "aws:PrincipalArn": principal.role_arn or principal.arn,
        "aws:PrincipalAccount": principal.account_id or "",
        "aws:PrincipalType": _PRINCIPAL_TYPES[principal.kind],
        "aws:userid": caller.user_id,
    }
    if caller.username is not None:
        keys["aws:username"] = caller.username
    keys.update({f"aws:PrincipalTag/{key}": value for key, value in caller.tags.items()})
    if caller.session is not None:
        keys["aws:TokenIssueTime"] = _iso(caller.session.created)
        keys["aws:MultiFactorAuthPresent"] = "false"
        if caller.session.source_identity:
            keys["aws:SourceIdentity"] = caller.session.source_identity
    return {key: (value,) for key, value in keys.items()}


def request_keys(facts: RequestFacts) -> ContextValues:
    """``aws:CurrentTime``, ``aws:EpochTime``, ``aws:SourceIp``, ``aws:SecureTransport`` ..."""
    now = time.time()
    keys = {
        "aws:CurrentTime": _iso(datetime.fromtimestamp(now, UTC)),
        "aws:EpochTime": str(int(now)),
        "aws:SourceIp": facts.source_ip,
        "aws:SecureTransport": "true" if facts.secure_transport else "false",
        "aws:RequestedRegion": facts.region,
    }
    if facts.user_agent:
        keys["aws:UserAgent"] = facts.user_agent
    return {key: (value,) for key, value in keys.items()}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
