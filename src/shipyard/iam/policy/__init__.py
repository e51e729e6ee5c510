"""The policy engine: parse and validate IAM policy documents, and decide requests.

One engine answers every service: the gateway's authorizer, STS AssumeRole (trust
policies), S3 bucket policies and IAM's policy simulator.
"""

from shipyard.iam.policy.decision import (
    Decision,
    Effect,
    MatchedStatement,
    denial_message,
)
from shipyard.iam.policy.document import Policy, PolicyType, Position, Statement
from shipyard.iam.policy.evaluation import NamedPolicy, PolicySet, evaluate
from shipyard.iam.policy.parsing import parse_policy
from shipyard.iam.policy.request import AuthorizationRequest, Principal

__all__ = [
    "AuthorizationRequest",
    "Decision",
    "Effect",
    "MatchedStatement",
    "NamedPolicy",
    "Policy",
    "PolicySet",
    "PolicyType",
    "Position",
    "Principal",
    "Statement",
    "denial_message",
    "evaluate",
    "parse_policy",
]
