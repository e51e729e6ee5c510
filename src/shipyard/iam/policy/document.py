"""A parsed policy: statements with their patterns and conditions compiled."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shipyard.iam.policy.conditions import Clause
from shipyard.iam.policy.patterns import WildcardSet, compile_fragments
from shipyard.iam.policy.principals import PrincipalSpec
from shipyard.iam.policy.variables import Context, Template


class PolicyType(StrEnum):
    """Where a policy is attached, which decides what it may and must contain."""

    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"


@dataclass(frozen=True, slots=True)
class Position:
    """A place in the policy text (1-based), as Simulate* reports it."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class ResourceMatcher:
    """Resource or NotResource entries: fixed patterns, and entries with variables."""

    patterns: WildcardSet
    templates: tuple[Template, ...]

    def matches(self, resource: str, context: Context) -> bool:
        """Whether ``resource`` matches an entry (entries with unresolved variables never do)."""
        if self.patterns.matches(resource):
            return True
        for template in self.templates:
            resolved = template.resolve(context)
            if resolved is not None and compile_fragments((resolved[1],)).match(
                resource
            ):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement.

    ``actions`` holds lower-cased action patterns; ``resources`` is None where the
    statement has no Resource element (trust policies); ``principal`` None where it has
    no Principal (identity policies). ``index`` counts from 0 in the Statement list;
    ``start`` and ``end`` are known when the policy was parsed from text.
    """

    sid: str | None
    effect: str
    actions: WildcardSet
    not_action: bool
    resources: ResourceMatcher | None
    not_resource: bool
    principal: PrincipalSpec | None
    not_principal: bool
    conditions: tuple[Clause, ...]
    index: int
    start: Position | None = None
    end: Position | None = None

    def applies(
        self, action: str, resource: str, context: Context, missing: list[str]
    ) -> bool:
        """Whether the statement covers the lower-cased ``action`` on ``resource``.

        The Principal element is the caller's business (see the evaluation); a
        statement whose condition is not met does not apply.
        """
        if self.actions.matches(action) == self.not_action:
            return False
        resources = self.resources
        if (
            resources is not None
            and resources.matches(resource, context) == self.not_resource
        ):
            return False
        if not self.conditions:
            return True
        # Every clause is evaluated so that all missing context keys are reported.
        outcomes = [clause.holds(context, missing) for clause in self.conditions]
        return all(outcomes)


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy document. ``version`` is ``2008-10-17`` when none was given."""

    version: str
    id: str | None
    statements: tuple[Statement, ...]
    policy_type: PolicyType = PolicyType.IDENTITY
