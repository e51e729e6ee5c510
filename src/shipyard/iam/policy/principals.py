"""The Principal / NotPrincipal element of resource and trust policies.

Which callers a statement names, and how specifically: a grant naming the caller itself
(``*``, a user ARN, an assumed-role session ARN) stands on its own; one naming the
session's role is capped by its session policies and boundary; one naming the account
only delegates to the account's own identity policies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from shipyard.errors import AwsError
from shipyard.iam.policy.malformed import SYNTAX, malformed
from shipyard.iam.policy.request import Principal

PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")

_ACCOUNT = re.compile(r"\d{12}\Z")
_AWS_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:iam::(\d{12}):(?:root|(?:user|role|federated-user)/[^\s*?]+)"
    r"|sts::(\d{12}):assumed-role/[^/\s*?]+/[^\s*?]+)\Z"
)
_ROOT_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root\Z")


class MatchKind(IntEnum):
    """How a principal element names the caller (larger is more specific)."""

    ACCOUNT = 1
    ROLE = 2
    SPECIFIC = 3


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A compiled Principal element."""

    anyone: bool
    arns: frozenset[str]
    accounts: frozenset[str]
    services: frozenset[str]
    federated: frozenset[str]
    canonical_users: frozenset[str]

    def match(self, caller: Principal) -> MatchKind | None:
        """How this element names ``caller``, or None when it does not."""
        if self.anyone:
            return MatchKind.SPECIFIC
        if caller.kind == "anonymous":
            return None
        if caller.kind == "service":
            return MatchKind.SPECIFIC if caller.arn in self.services else None
        if caller.arn in self.arns:
            return MatchKind.SPECIFIC
        if caller.role_arn is not None and caller.role_arn in self.arns:
            return MatchKind.ROLE
        if caller.account_id in self.accounts:
            return MatchKind.SPECIFIC if caller.kind == "root" else MatchKind.ACCOUNT
        return None

    def lists(self, caller: Principal) -> bool:
        """Whether NotPrincipal excludes ``caller``.

        AWS checks each identity of the caller -- the account, then the role or user --
        so the caller is excluded only when its account and its user (or, for a session,
        its role) are both listed.
        """
        if self.anyone:
            return True
        if caller.kind == "anonymous" or caller.account_id not in self.accounts:
            return False
        if caller.kind == "root":
            return True
        if caller.role_arn is not None:
            return caller.role_arn in self.arns
        return caller.arn in self.arns


def parse_principal(element: Any, empty: AwsError) -> PrincipalSpec:
    """Compile a Principal element; ``empty`` is raised when it names no one."""
    if element == "*":
        return PrincipalSpec(True, *(frozenset(),) * 5)
    if not isinstance(element, Mapping):
        raise malformed(SYNTAX)
    values: dict[str, list[str]] = {name: [] for name in PRINCIPAL_TYPES}
    for name, raw in element.items():
        entries = [raw] if isinstance(raw, str) else raw
        if name not in values or not isinstance(entries, list):
            raise malformed(SYNTAX)
        if not all(isinstance(entry, str) for entry in entries):
            raise malformed(SYNTAX)
        values[name].extend(entries)
    if not any(values.values()):
        raise empty
    arns: set[str] = set()
    accounts: set[str] = set()
    for entry in values["AWS"]:
        if entry == "*":
            return PrincipalSpec(True, *(frozenset(),) * 5)
        if _ACCOUNT.match(entry):
            accounts.add(entry)
        elif root := _ROOT_ARN.match(entry):
            accounts.add(root.group(1))
        elif _AWS_ARN.match(entry):
            arns.add(entry)
        else:
            raise malformed(f'Invalid principal in policy: "AWS":"{entry}"')
    return PrincipalSpec(
        False,
        frozenset(arns),
        frozenset(accounts),
        frozenset(values["Service"]),
        frozenset(values["Federated"]),
        frozenset(values["CanonicalUser"]),
    )
