"""Managed policies: create, versions (at most five), attachments and their counts, AWS managed policies."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow_text, trust_text, unique_name, unique_path

AWS_POLICIES = {
    "AdministratorAccess",
    "ReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonSageMakerFullAccess",
    "IAMFullAccess",
}


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def test_create_and_get_policy(iam) -> None:
    name, path = unique_name("pol"), unique_path()
    document = allow_text("s3:GetObject", "arn:aws:s3:::datasets/*")
    created = iam.create_policy(
        PolicyName=name, Path=path, PolicyDocument=document, Description="read datasets"
    )["Policy"]
    assert re.fullmatch(r"ANPA[A-Z2-7]{17}", created["PolicyId"])
    assert created["Arn"].endswith(f":policy{path}{name}")
    assert (
        created["DefaultVersionId"],
        created["AttachmentCount"],
        created["IsAttachable"],
    ) == ("v1", 0, True)
    got = iam.get_policy(PolicyArn=created["Arn"])["Policy"]
    assert (
        got["Description"] == "read datasets"
        and got["PermissionsBoundaryUsageCount"] == 0
    )
    version = iam.get_policy_version(PolicyArn=created["Arn"], VersionId="v1")[
        "PolicyVersion"
    ]
    assert (
        version["Document"] == json.loads(document)
        and version["IsDefaultVersion"] is True
    )
    iam.get_waiter("policy_exists").wait(
        PolicyArn=created["Arn"], WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )
    assert [
        p["PolicyName"]
        for p in iam.list_policies(Scope="Local", PathPrefix=path)["Policies"]
    ] == [name]
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        iam.create_policy(PolicyName=name.upper(), PolicyDocument=document)
    assert exc.value.response["Error"]["Message"] == (
        f"A policy called {name.upper()} already exists. Duplicate names are not allowed."
    )


def test_policy_errors(iam) -> None:
    account = iam.get_user()["User"]["Arn"].split(":")[4]
    missing = f"arn:aws:iam::{account}:policy/{unique_name('missing')}"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_policy(PolicyArn=missing)
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert exc.value.response["Error"]["Message"] == f"Policy {missing} was not found."
    with pytest.raises(iam.exceptions.InvalidInputException) as exc:
        iam.get_policy(PolicyArn="arn:aws:s3:::not-a-policy-arn")
    assert error_of(exc) == ("InvalidInput", 400)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException) as exc:
        iam.create_policy(
            PolicyName=unique_name("bad"), PolicyDocument='{"Version": "2012-10-17"}'
        )
    assert error_of(exc) == ("MalformedPolicyDocument", 400)
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.create_policy(
            PolicyName=unique_name("bad"), PolicyDocument=trust_text()
        )  # Principal in an identity policy
    huge = allow_text([f"s3:GetObject{i:05d}" for i in range(400)])
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.create_policy(PolicyName=unique_name("huge"), PolicyDocument=huge)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot exceed quota for PolicySize: 6144"
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_policy(PolicyArn=missing)


def test_versions_limit_default_and_delete(iam) -> None:
    arn = iam.create_policy(
        PolicyName=unique_name("ver"), PolicyDocument=allow_text("s3:GetObject")
    )["Policy"]["Arn"]
    for i in range(2, 6):
        version = iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=allow_text(f"s3:Get{i}")
        )["PolicyVersion"]
        assert (version["VersionId"], version["IsDefaultVersion"]) == (f"v{i}", False)
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=allow_text("s3:GetObject"))
    assert error_of(exc) == ("LimitExceeded", 409)
    listed = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in listed] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in listed] == [False, False, False, False, True]

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete the default version of a policy."
    )
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v3")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    created = iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=allow_text("s3:PutObject"), SetAsDefault=True
    )
    assert created["PolicyVersion"]["VersionId"] == "v6"  # version ids never repeat
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v6"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy_version(PolicyArn=arn, VersionId="v1")
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.set_default_policy_version(PolicyArn=arn, VersionId="v9")
    with pytest.raises(ClientError) as exc:
        iam.get_policy_version(PolicyArn=arn, VersionId="version1")
    assert error_of(exc) == ("ValidationError", 400)

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert "more than one version" in exc.value.response["Error"]["Message"]
    for version_id in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_policy(PolicyArn=arn)


def test_attachments_keep_the_count(iam) -> None:
    arn = iam.create_policy(
        PolicyName=unique_name("att"), PolicyDocument=allow_text("s3:ListBucket")
    )["Policy"]["Arn"]
    user, group, role = unique_name("u"), unique_name("g"), unique_name("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_text())
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)  # again: still one attachment
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    name = arn.rsplit("/", 1)[1]
    expected = [{"PolicyName": name, "PolicyArn": arn}]
    assert (
        iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == expected
    )
    assert (
        iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
        == expected
    )
    assert (
        iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == expected
    )
    assert (
        iam.list_attached_role_policies(RoleName=role, PathPrefix="/elsewhere/")[
            "AttachedPolicies"
        ]
        == []
    )
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert (
        iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")["PolicyUsers"]
        == []
    )

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete a policy attached to entities."
    )
    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_user(UserName=user)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must detach all policies first."
    )
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.detach_user_policy(UserName=user, PolicyArn=arn)
    assert exc.value.response["Error"]["Message"] == f"Policy {arn} was not found."
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0
    iam.delete_policy(PolicyArn=arn)


def test_attach_errors_and_limit(iam) -> None:
    user = unique_name("u")
    iam.create_user(UserName=user)
    account = iam.get_user(UserName=user)["User"]["Arn"].split(":")[4]
    missing = f"arn:aws:iam::{account}:policy/{unique_name('nope')}"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=missing)
    assert (
        exc.value.response["Error"]["Message"]
        == f"Policy {missing} does not exist or is not attachable."
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.attach_role_policy(
            RoleName=unique_name("norole"),
            PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess",
        )
    with pytest.raises(iam.exceptions.InvalidInputException):
        iam.attach_user_policy(
            UserName=user, PolicyArn="arn:aws:s3:::bucket/policy-like-arn"
        )
    arns = [
        iam.create_policy(
            PolicyName=unique_name("many"), PolicyDocument=allow_text("s3:GetObject")
        )["Policy"]["Arn"]
        for _ in range(11)
    ]
    for arn in arns[:10]:
        iam.attach_user_policy(UserName=user, PolicyArn=arn)
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=arns[10])
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot exceed quota for PoliciesPerUser: 10"
    )
    pages = iam.get_paginator("list_attached_user_policies").paginate(
        UserName=user, PaginationConfig={"PageSize": 3}
    )
    assert [p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]] == arns[
        :10
    ]


def test_aws_managed_policies(iam) -> None:
    listed = {
        p["PolicyName"]: p
        for page in iam.get_paginator("list_policies").paginate(Scope="AWS")
        for p in page["Policies"]
    }
    assert set(listed) == AWS_POLICIES
    admin = listed["AdministratorAccess"]
    assert (
        admin["Arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
        and admin["Path"] == "/"
    )
    policy = iam.get_policy(PolicyArn=admin["Arn"])["Policy"]
    version = iam.get_policy_version(
        PolicyArn=admin["Arn"], VersionId=policy["DefaultVersionId"]
    )["PolicyVersion"]
    assert version["Document"]["Statement"] == [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}
    ]
    s3_read = iam.get_policy(
        PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    )["Policy"]
    document = iam.get_policy_version(
        PolicyArn=s3_read["Arn"], VersionId=s3_read["DefaultVersionId"]
    )
    assert "s3:Get*" in document["PolicyVersion"]["Document"]["Statement"][0]["Action"]
    local = {
        p["Arn"]
        for page in iam.get_paginator("list_policies").paginate(Scope="Local")
        for p in page["Policies"]
    }
    assert not any(arn.startswith("arn:aws:iam::aws:") for arn in local)

    role = unique_name("r")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_text())
    arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
    before = iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == before + 1
    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    assert arn in {p["Arn"] for p in attached}
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert error_of(exc) == ("AccessDenied", 403)


def test_policy_tags(iam) -> None:
    arn = iam.create_policy(
        PolicyName=unique_name("tp"),
        PolicyDocument=allow_text("s3:GetObject"),
        Tags=[{"Key": "a", "Value": "1"}],
    )["Policy"]["Arn"]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["a"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [
        {"Key": "b", "Value": "2"}
    ]
