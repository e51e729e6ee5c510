"""The policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy, context keys."""

from __future__ import annotations

import json

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow_text, unique_name


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def test_simulate_principal_policy_for_a_user_in_a_group(iam) -> None:
    user, group = unique_name("analyst"), unique_name("g")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(
        GroupName=group,
        PolicyName="read",
        PolicyDocument=allow_text("s3:GetObject", "arn:aws:s3:::datasets/public/*"),
    )
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::datasets/public/secret*",
                }
            ],
        }
    )
    iam.put_user_policy(UserName=user, PolicyName="deny-secret", PolicyDocument=deny)
    arn = iam.get_user(UserName=user)["User"]["Arn"]
    results = iam.simulate_principal_policy(
        PolicySourceArn=arn,
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=[
            "arn:aws:s3:::datasets/public/a.csv",
            "arn:aws:s3:::datasets/public/secret.csv",
        ],
    )["EvaluationResults"]
    decisions = {
        (r["EvalActionName"], r["EvalResourceName"]): r["EvalDecision"] for r in results
    }
    assert decisions == {
        ("s3:GetObject", "arn:aws:s3:::datasets/public/a.csv"): "allowed",
        ("s3:GetObject", "arn:aws:s3:::datasets/public/secret.csv"): "explicitDeny",
        ("s3:PutObject", "arn:aws:s3:::datasets/public/a.csv"): "implicitDeny",
        ("s3:PutObject", "arn:aws:s3:::datasets/public/secret.csv"): "implicitDeny",
    }
    allowed = results[0]
    assert allowed["MatchedStatements"][0]["SourcePolicyId"] == "read"
    assert allowed["MatchedStatements"][0]["SourcePolicyType"] == "group"
    assert allowed["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"
    denied = results[1]
    assert denied["MatchedStatements"][0]["SourcePolicyId"] == "deny-secret"

    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.simulate_principal_policy(
            PolicySourceArn=arn + "-gone", ActionNames=["s3:GetObject"]
        )


def test_simulate_custom_policy_with_conditions_and_boundary(iam) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": "arn:aws:s3:::datasets",
                    "Condition": {"StringLike": {"s3:prefix": "public/*"}},
                }
            ],
        }
    )

    def decide(prefix: str | None, boundary: str | None = None) -> dict:
        params: dict = {
            "PolicyInputList": [policy],
            "ActionNames": ["s3:ListBucket"],
            "ResourceArns": ["arn:aws:s3:::datasets"],
        }
        if prefix is not None:
            params["ContextEntries"] = [
                {
                    "ContextKeyName": "s3:prefix",
                    "ContextKeyValues": [prefix],
                    "ContextKeyType": "string",
                }
            ]
        if boundary is not None:
            params["PermissionsBoundaryPolicyInputList"] = [boundary]
        return iam.simulate_custom_policy(**params)["EvaluationResults"][0]

    assert decide("public/x")["EvalDecision"] == "allowed"
    assert decide("private/x")["EvalDecision"] == "implicitDeny"
    missing = decide(None)
    assert (
        missing["EvalDecision"] == "implicitDeny"
        and "s3:prefix" in missing["MissingContextValues"]
    )
    capped = decide("public/x", boundary=allow_text("s3:GetObject"))
    assert capped["EvalDecision"] == "implicitDeny"
    assert capped["PermissionsBoundaryDecisionDetail"] == {
        "AllowedByPermissionsBoundary": False
    }
    with pytest.raises(iam.exceptions.InvalidInputException) as exc:
        iam.simulate_custom_policy(
            PolicyInputList=["{oops"], ActionNames=["s3:GetObject"]
        )
    assert error_of(exc) == ("InvalidInput", 400)


def test_simulate_with_a_resource_policy_naming_the_caller(iam) -> None:
    account = iam.get_user()["User"]["Arn"].split(":")[4]
    caller = f"arn:aws:iam::{account}:user/{unique_name('caller')}"
    bucket_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": caller},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::shared/*",
                }
            ],
        }
    )
    result = iam.simulate_custom_policy(
        PolicyInputList=[allow_text("s3:ListBucket")],
        ActionNames=["s3:GetObject"],
        ResourceArns=["arn:aws:s3:::shared/file"],
        ResourcePolicy=bucket_policy,
        CallerArn=caller,
    )["EvaluationResults"][0]
    assert result["EvalDecision"] == "allowed"


def test_context_keys(iam) -> None:
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::home/${aws:username}/*",
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                        "Bool": {"aws:SecureTransport": "true"},
                    },
                }
            ],
        }
    )
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[policy])[
        "ContextKeyNames"
    ]
    assert sorted(keys) == ["aws:SecureTransport", "aws:SourceIp", "aws:username"]
    user = unique_name("ctx")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=policy)
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=arn)[
        "ContextKeyNames"
    ]
    assert "aws:SourceIp" in keys
