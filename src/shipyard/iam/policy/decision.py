"""The engine's answer, and the AWS wording that explains a denial."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shipyard.iam.policy.document import Position
from shipyard.iam.policy.request import AuthorizationRequest


class Effect(StrEnum):
    """The outcome, spelled as IAM's simulator spells EvalDecision."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


_NAMES = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "boundary": "permissions boundary",
    "session": "session policy",
}
_ARTICLES = {"identity": "an", "resource": "a", "boundary": "a", "session": "a"}


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    """A statement that decided, as Simulate* reports it in MatchedStatements.

    ``start``/``end`` are known for policies parsed from text; ``index`` always.
    """

    source_id: str
    source_type: str
    sid: str | None
    index: int
    start: Position | None
    end: Position | None


@dataclass(frozen=True, slots=True)
class Decision:
    """Allowed or denied, which kind of policy decided, and the statements that did.

    ``policy_kind`` is ``identity``, ``resource``, ``boundary`` or ``session`` for a
    denial (the policy with the explicit deny, or the first that lacked an Allow).
    ``trusted`` tells that the resource policy (a role's trust policy, a bucket policy)
    has an Allow that applies to the caller, even one naming only the caller's account,
    and no policy denies explicitly.
    """

    effect: Effect
    policy_kind: str | None
    matched: tuple[MatchedStatement, ...]
    missing_context_keys: tuple[str, ...]
    trusted: bool = False

    @property
    def allowed(self) -> bool:
        """Whether the request is allowed."""
        return self.effect is Effect.ALLOWED

    def reason(self, action: str) -> str:
        """Why a request was denied, in AWS's words (empty when allowed)."""
        if self.effect is Effect.ALLOWED or self.policy_kind is None:
            return ""
        name = _NAMES[self.policy_kind]
        if self.effect is Effect.EXPLICIT_DENY:
            return f"with an explicit deny in {_ARTICLES[self.policy_kind]} {name}"
        return f"because no {name} allows the {action} action"


def denial_message(request: AuthorizationRequest, decision: Decision) -> str:
    """AWS's AccessDenied message for a denied ``request``.

    S3 quotes the resource; IAM, STS and the other services print it bare.
    """
    who = (
        "anonymous" if request.principal.kind == "anonymous" else request.principal.arn
    )
    resource = request.resource
    if request.action.lower().startswith("s3:"):
        resource = f'"{resource}"'
    return (
        f"User: {who} is not authorized to perform: {request.action} on resource: "
        f"{resource} {decision.reason(request.action)}"
    )
