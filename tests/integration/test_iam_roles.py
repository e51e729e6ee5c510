"""IAM roles: trust policies, session limits, descriptions, tags, deletion rules."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow_text, trust_text, unique_name, unique_path


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def test_create_role_returns_the_trust_policy_as_a_document(iam) -> None:
    name, path = unique_name("role"), unique_path()
    document = trust_text()
    role = iam.create_role(
        RoleName=name,
        Path=path,
        AssumeRolePolicyDocument=document,
        Description="training jobs",
        MaxSessionDuration=7200,
        Tags=[{"Key": "project", "Value": "churn"}],
    )["Role"]
    assert re.fullmatch(r"AROA[A-Z2-7]{17}", role["RoleId"])
    assert role["Arn"].endswith(f":role{path}{name}")
    assert role["AssumeRolePolicyDocument"] == json.loads(
        document
    )  # botocore decodes the URL-encoded JSON
    got = iam.get_role(RoleName=name)["Role"]
    assert got["Description"] == "training jobs" and got["MaxSessionDuration"] == 7200
    assert got["Tags"] == [{"Key": "project", "Value": "churn"}]
    assert got["RoleLastUsed"] == {}
    iam.get_waiter("role_exists").wait(
        RoleName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )
    listed = iam.list_roles(PathPrefix=path)["Roles"]
    assert [r["RoleName"] for r in listed] == [name] and "Tags" not in listed[0]
    assert listed[0]["AssumeRolePolicyDocument"] == json.loads(document)


def test_default_session_duration_and_updates(iam) -> None:
    name = unique_name("role")
    assert (
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())["Role"][
            "MaxSessionDuration"
        ]
        == 3600
    )
    iam.update_role(RoleName=name, Description="new", MaxSessionDuration=43200)
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("new", 43200)
    assert (
        iam.update_role_description(RoleName=name, Description="newer")["Role"][
            "Description"
        ]
        == "newer"
    )
    changed = trust_text("ec2.amazonaws.com")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=changed)
    assert iam.get_role(RoleName=name)["Role"][
        "AssumeRolePolicyDocument"
    ] == json.loads(changed)
    with pytest.raises(ClientError) as exc:
        iam.update_role(RoleName=name, MaxSessionDuration=43201)
    assert error_of(exc) == ("ValidationError", 400)
    assert (
        "Member must have value less than or equal to 43200"
        in exc.value.response["Error"]["Message"]
    )


def test_role_errors(iam) -> None:
    name = unique_name("role")
    with pytest.raises(ClientError) as exc:
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=trust_text(), MaxSessionDuration=100000
        )
    assert error_of(exc) == ("ValidationError", 400)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as exc:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument="{not json")
    assert error_of(exc) == ("MalformedPolicyDocument", 400)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=allow_text("s3:GetObject")
        )  # Resource in a trust policy
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        iam.create_role(RoleName=name.upper(), AssumeRolePolicyDocument=trust_text())
    assert (
        exc.value.response["Error"]["Message"]
        == f"Role with name {name.upper()} already exists."
    )
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.update_assume_role_policy(RoleName=name, PolicyDocument="[]")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_role(RoleName="missing-" + name)
    assert (
        exc.value.response["Error"]["Message"]
        == f"The role with name missing-{name} cannot be found."
    )
    big = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": f"s{i:04d}.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
                for i in range(40)
            ],
        }
    )
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.create_role(RoleName=unique_name("big"), AssumeRolePolicyDocument=big)
    assert error_of(exc) == ("LimitExceeded", 409)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot exceed quota for ACLSizePerRole: 2048"
    )


def test_role_tags(iam) -> None:
    name = unique_name("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())
    iam.tag_role(
        RoleName=name,
        Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "ml"}],
    )
    iam.untag_role(RoleName=name, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.tag_role(RoleName="missing-" + name, Tags=[{"Key": "a", "Value": "b"}])


def test_delete_role_needs_policies_gone(iam) -> None:
    name = unique_name("role")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())
    iam.put_role_policy(
        RoleName=name, PolicyName="inline", PolicyDocument=allow_text("s3:GetObject")
    )
    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_role(RoleName=name)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must delete policies first."
    )
    iam.delete_role_policy(RoleName=name, PolicyName="inline")
    iam.attach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_role(RoleName=name)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must detach all policies first."
    )
    iam.detach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )
    iam.delete_role(RoleName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_role(RoleName=name)
