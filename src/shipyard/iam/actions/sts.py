"""STS: ``sts:AssumeRole*`` on the role assumed; token and identity calls on ``"*"``.

``GetTrustBundles`` names a workload identity provider, but its action supports no
resource-level permissions (STS API reference): it is checked on ``"*"``.
"""

from __future__ import annotations

from typing import Any

from shipyard.iam.actions.base import Request, passthrough
from shipyard.iam.actions.generic import ConditionKey, ServiceTable


def _federated_user(value: Any, request: Request) -> str | None:
    return (
        f"arn:aws:sts::{request.account_id}:federated-user/{value}" if value else None
    )


TABLE = ServiceTable(
    prefix="sts",
    resources={"RoleArn": passthrough, "Name": _federated_user},
    conditions=(
        ConditionKey("sts:RoleSessionName", ("RoleSessionName",)),
        ConditionKey("sts:ExternalId", ("ExternalId",)),
        ConditionKey("sts:SourceIdentity", ("SourceIdentity",)),
        ConditionKey("sts:TransitiveTagKeys", ("TransitiveTagKeys",)),
    ),
    not_resources=frozenset({"TaskPolicyArn", "ProviderArn"}),
)
