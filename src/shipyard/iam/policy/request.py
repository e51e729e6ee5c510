"""Who asks for what: the principal and the request the engine decides on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["root", "user", "assumed-role", "anonymous", "service"]


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller.

    ``arn`` is ``arn:aws:iam::<acct>:user/<path><name>``,
    ``arn:aws:sts::<acct>:assumed-role/<role>/<session>``, ``arn:aws:iam::<acct>:root``,
    or ``*`` for an anonymous caller (whose ``account_id`` is None); an AWS service acting
    for the account (SageMaker assuming a job's role) is ``kind="service"`` with the
    service principal as ``arn`` (``sagemaker.amazonaws.com``). ``role_arn`` is the role
    of an assumed-role session.
    """

    arn: str
    account_id: str | None
    kind: PrincipalKind
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """One action on one resource (an ARN, or ``*``) with its condition context.

    Context key names are case-insensitive: they are lower-cased here, once. A bare
    string value counts as one value.
    """

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        normalised = {
            key.lower(): (values,) if isinstance(values, str) else tuple(values)
            for key, values in self.context.items()
        }
        object.__setattr__(self, "context", normalised)
