"""Builders for the engine's case table: principals, statements, policies, cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from shipyard.iam.policy import (
    AuthorizationRequest,
    NamedPolicy,
    PolicySet,
    PolicyType,
    Principal,
    parse_policy,
)

ACCOUNT = "123456789012"
ALICE = Principal(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "user")
BOB = Principal(f"arn:aws:iam::{ACCOUNT}:user/team/bob", ACCOUNT, "user")
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/trainer"
SESSION = Principal(
    f"arn:aws:sts::{ACCOUNT}:assumed-role/trainer/job-1",
    ACCOUNT,
    "assumed-role",
    ROLE_ARN,
)
ROOT = Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "root")
ANONYMOUS = Principal("*", None, "anonymous")
OBJECT = "arn:aws:s3:::datasets/public/x.csv"

Statement = dict[str, Any]


def allow(
    action: Any = "s3:GetObject", resource: Any = OBJECT, **extra: Any
) -> Statement:
    """An Allow statement (``resource=None`` leaves the Resource element out)."""
    return _statement("Allow", action, resource, extra)


def deny(
    action: Any = "s3:GetObject", resource: Any = OBJECT, **extra: Any
) -> Statement:
    """A Deny statement (``resource=None`` leaves the Resource element out)."""
    return _statement("Deny", action, resource, extra)


def _statement(
    effect: str, action: Any, resource: Any, extra: dict[str, Any]
) -> Statement:
    statement: Statement = {"Effect": effect}
    if action is not None:
        statement["Action"] = action
    if resource is not None:
        statement["Resource"] = resource
    statement.update(extra)
    return statement


def named(
    statements: Sequence[Statement],
    policy_type: PolicyType = PolicyType.IDENTITY,
    version: str | None = "2012-10-17",
    source: str = "policy",
) -> NamedPolicy:
    """Parse ``statements`` into one named policy."""
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return NamedPolicy(parse_policy(document, policy_type), source, "user-managed")


@dataclass(frozen=True)
class Case:
    """One row of the table: policies x request -> ``effect[:policy kind]``."""

    expected: str
    identity: Sequence[Statement] = ()
    resource_policy: Sequence[Statement] | None = None
    trust: Sequence[Statement] | None = None
    boundary: Sequence[Statement] | None = None
    session: Sequence[Statement] | None = None
    has_session_policy: bool = False
    principal: Principal = ALICE
    action: str = "s3:GetObject"
    resource: str = OBJECT
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)
    version: str | None = "2012-10-17"

    def request(self) -> AuthorizationRequest:
        return AuthorizationRequest(
            self.principal, self.action, self.resource, self.context
        )

    def policies(self) -> PolicySet:
        resource = None
        if self.resource_policy is not None:
            resource = named(self.resource_policy, PolicyType.RESOURCE, self.version)
        if self.trust is not None:
            resource = named(self.trust, PolicyType.TRUST, self.version)
        return PolicySet(
            identity=(named(self.identity, version=self.version),)
            if self.identity
            else (),
            resource=resource,
            boundary=named(self.boundary) if self.boundary is not None else None,
            session=(named(self.session),) if self.session is not None else (),
            has_session_policy=self.has_session_policy or self.session is not None,
        )


def case(name: str, expected: str, **fields: Any) -> Any:
    """A pytest parameter for the table."""
    return pytest.param(Case(expected, **fields), id=name)
