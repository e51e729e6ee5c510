"""Policy documents as IAM takes them: validated by the policy engine, sized as AWS counts.

IAM keeps a document as the client sent it (whitespace included) and answers it back
verbatim; sizes are counted without whitespace, as IAM's quotas are.
"""

from __future__ import annotations

import functools

from shipyard.errors import AwsError
from shipyard.iam.policy import Policy, PolicyType, parse_policy

#: Quotas (characters, whitespace excluded).
MANAGED_POLICY_SIZE = 6144
TRUST_POLICY_SIZE = 2048
#: Total size of the inline policies of one entity.
INLINE_POLICY_SIZE = {"user": 2048, "group": 5120, "role": 10240}


@functools.lru_cache(maxsize=4096)
def parsed(document: str, policy_type: PolicyType) -> Policy:
    """``document`` parsed (cached: stored documents are parsed once per process)."""
    return parse_policy(document, policy_type)


def policy_size(document: str) -> int:
    """The size IAM's quotas count: characters other than whitespace."""
    return sum(1 for ch in document if not ch.isspace())


def check_managed(document: str) -> None:
    """Validate a managed policy version's document (``MalformedPolicyDocument``, ``LimitExceeded``)."""
    parsed(document, PolicyType.IDENTITY)
    if policy_size(document) > MANAGED_POLICY_SIZE:
        raise AwsError(
            "LimitExceeded",
            f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_SIZE}",
            409,
        )


def check_trust(document: str) -> None:
    """Validate a role's trust policy."""
    parsed(document, PolicyType.TRUST)
    if policy_size(document) > TRUST_POLICY_SIZE:
        raise AwsError(
            "LimitExceeded",
            f"Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_SIZE}",
            409,
        )


def check_inline(document: str) -> None:
    """Validate an inline policy's document (its size is checked with the entity's others)."""
    parsed(document, PolicyType.IDENTITY)


def check_inline_total(kind: str, name: str, documents: list[str]) -> None:
    """``LimitExceeded`` when an entity's inline policies together pass its quota."""
    limit = INLINE_POLICY_SIZE[kind]
    if sum(policy_size(document) for document in documents) > limit:
        raise AwsError(
            "LimitExceeded",
            f"Maximum policy size of {limit} bytes exceeded for {kind} {name}",
            409,
        )
