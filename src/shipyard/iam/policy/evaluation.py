"""``evaluate``: AWS's policy evaluation logic within one account.

An explicit Deny in any policy wins. Otherwise the request is allowed when an identity
policy allows it and the permissions boundary and session policies (where present) allow
it too, or when the resource policy allows it in a statement naming the caller itself
(such grants are not capped) or the caller's role (capped like identity grants). A
resource policy naming only the account delegates to the account's identity policies. A
role's trust policy must allow in any case. Anything else is an implicit deny.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shipyard.iam.policy.decision import Decision, Effect, MatchedStatement
from shipyard.iam.policy.document import Policy, PolicyType, Statement
from shipyard.iam.policy.principals import MatchKind
from shipyard.iam.policy.request import AuthorizationRequest, Principal
from shipyard.iam.policy.variables import Context


@dataclass(frozen=True, slots=True)
class NamedPolicy:
    """A policy with what Simulate* reports as its SourcePolicyId and SourcePolicyType.

    ``source_type`` is one of user, group, role, aws-managed, user-managed, resource, none.
    """

    policy: Policy
    source_id: str
    source_type: str


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that bears on a request.

    ``identity``: the principal's identity-based policies; ``resource``: the resource's
    policy (bucket policy, role trust policy); ``boundary``: the permissions boundary;
    ``session``: session policies, with ``has_session_policy`` set for a session that
    was given policies at all.
    """

    identity: tuple[NamedPolicy, ...] = ()
    resource: NamedPolicy | None = None
    boundary: NamedPolicy | None = None
    session: tuple[NamedPolicy, ...] = ()
    has_session_policy: bool = False


_Match = tuple[NamedPolicy, Statement]


class _Layer:
    """The applicable Allow and Deny statements of one kind of policy."""

    __slots__ = ("allows", "best", "denies")

    def __init__(self) -> None:
        self.allows: list[_Match] = []
        self.denies: list[_Match] = []
        self.best: MatchKind | None = None


def evaluate(request: AuthorizationRequest, policies: PolicySet) -> Decision:
    """Decide ``request`` against ``policies``."""
    action = request.action.lower()
    resource = request.resource
    context = request.context
    missing: list[str] = []
    identity = _scan(policies.identity, action, resource, context, missing)
    boundary = _scan(_optional(policies.boundary), action, resource, context, missing)
    session = _scan(policies.session, action, resource, context, missing)
    granted = _Layer()
    if policies.resource is not None:
        granted = _scan_resource(
            policies.resource,
            request.principal,
            policies.boundary is not None,
            (action, resource, context, missing),
        )
    layers = {
        "identity": identity,
        "resource": granted,
        "boundary": boundary,
        "session": session,
    }
    missing_keys = tuple(dict.fromkeys(missing))

    denying = [kind for kind, layer in layers.items() if layer.denies]
    if denying:
        matched = [match for layer in layers.values() for match in layer.denies]
        return Decision(
            Effect.EXPLICIT_DENY, denying[0], _report(matched), missing_keys
        )
    return _without_deny(request.principal, policies, layers, missing_keys)


def _without_deny(
    caller: Principal,
    policies: PolicySet,
    layers: dict[str, _Layer],
    missing_keys: tuple[str, ...],
) -> Decision:
    """Allowed, or an implicit deny naming the first kind of policy that lacked an Allow."""
    identity, granted = layers["identity"], layers["resource"]
    boundary, session = layers["boundary"], layers["session"]
    anonymous = caller.kind == "anonymous"
    identity_ok = bool(identity.allows) and not anonymous
    boundary_ok = policies.boundary is None or bool(boundary.allows)
    session_ok = not (policies.has_session_policy or policies.session) or bool(
        session.allows
    )
    capped_ok = boundary_ok and session_ok
    via_identity = identity_ok and capped_ok
    via_resource = granted.best is MatchKind.SPECIFIC or (
        granted.best is MatchKind.ROLE and capped_ok
    )
    trust = (
        policies.resource is not None
        and policies.resource.policy.policy_type is PolicyType.TRUST
    )
    allowed = via_identity or via_resource
    if trust:
        allowed = allowed and bool(granted.allows)
    if allowed:
        matched = granted.allows if via_resource or trust else []
        if via_identity:
            matched = identity.allows + boundary.allows + session.allows + matched
        return Decision(
            Effect.ALLOWED, None, _report(matched), missing_keys, bool(granted.allows)
        )

    if anonymous or (trust and not granted.allows):
        kind = "resource"
    elif not (identity_ok or granted.best is MatchKind.ROLE):
        kind = "identity"
    elif not boundary_ok:
        kind = "boundary"
    else:
        kind = "session"
    return Decision(Effect.IMPLICIT_DENY, kind, (), missing_keys, bool(granted.allows))


def _optional(policy: NamedPolicy | None) -> tuple[NamedPolicy, ...]:
    return () if policy is None else (policy,)


def _scan(
    policies: Iterable[NamedPolicy],
    action: str,
    resource: str,
    context: Context,
    missing: list[str],
) -> _Layer:
    layer = _Layer()
    for named in policies:
        for statement in named.policy.statements:
            if statement.applies(action, resource, context, missing):
                (layer.allows if statement.effect == "Allow" else layer.denies).append(
                    (named, statement)
                )
    return layer


def _scan_resource(
    named: NamedPolicy,
    caller: Principal,
    has_boundary: bool,
    request: tuple[str, str, Context, list[str]],
) -> _Layer:
    layer = _Layer()
    for statement in named.policy.statements:
        kind = _principal_match(statement, caller, has_boundary)
        if kind is None or not statement.applies(*request):
            continue
        if statement.effect == "Allow":
            layer.allows.append((named, statement))
            layer.best = kind if layer.best is None else max(layer.best, kind)
        else:
            layer.denies.append((named, statement))
    return layer


def _principal_match(
    statement: Statement, caller: Principal, has_boundary: bool
) -> MatchKind | None:
    spec = statement.principal
    if spec is None:
        return None
    if not statement.not_principal:
        return spec.match(caller)
    # AWS: a Deny with NotPrincipal always denies a principal that has a boundary.
    if has_boundary and statement.effect == "Deny":
        return MatchKind.SPECIFIC
    return None if spec.lists(caller) else MatchKind.SPECIFIC


def _report(matches: list[_Match]) -> tuple[MatchedStatement, ...]:
    return tuple(
        MatchedStatement(
            named.source_id,
            named.source_type,
            statement.sid,
            statement.index,
            statement.start,
            statement.end,
        )
        for named, statement in matches
    )
