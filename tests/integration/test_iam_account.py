"""Permissions boundaries, GetAccountAuthorizationDetails and ListEntitiesForPolicy."""

from __future__ import annotations

import json

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow_text, trust_text, unique_name, unique_path

S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def test_permissions_boundaries(iam) -> None:
    boundary = iam.create_policy(
        PolicyName=unique_name("bound"), PolicyDocument=allow_text("s3:*")
    )["Policy"]["Arn"]
    user, role = unique_name("u"), unique_name("r")
    iam.create_user(UserName=user, PermissionsBoundary=boundary)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust_text())
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=S3_READ)
    expected = {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": boundary,
    }
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"] == expected
    assert (
        iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"][
            "PermissionsBoundaryArn"
        ]
        == S3_READ
    )
    assert (
        iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"]
        == 1
    )
    used = iam.list_entities_for_policy(
        PolicyArn=boundary, PolicyUsageFilter="PermissionsBoundary"
    )
    assert [u["UserName"] for u in used["PolicyUsers"]] == [user]
    assert (
        iam.list_entities_for_policy(
            PolicyArn=boundary, PolicyUsageFilter="PermissionsPolicy"
        )["PolicyUsers"]
        == []
    )
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_policy(PolicyArn=boundary)

    iam.delete_user_permissions_boundary(UserName=user)
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]
    assert (
        iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"]
        == 0
    )

    missing = boundary + "-missing"
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=missing)
    assert (
        exc.value.response["Error"]["Message"]
        == f"Policy {missing} does not exist or is not attachable."
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.create_user(UserName=unique_name("u"), PermissionsBoundary=missing)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.put_role_permissions_boundary(
            RoleName=unique_name("ghost"), PermissionsBoundary=S3_READ
        )
    with pytest.raises(iam.exceptions.InvalidInputException) as exc:
        iam.put_role_permissions_boundary(
            RoleName=role, PermissionsBoundary="arn:aws:s3:::not-a-policy"
        )
    assert error_of(exc) == ("InvalidInput", 400)


def test_account_authorization_details(iam) -> None:
    path = unique_path()
    user, group, role = unique_name("u"), unique_name("g"), unique_name("r")
    policy = iam.create_policy(
        PolicyName=unique_name("p"), Path=path, PolicyDocument=allow_text("s3:GetObject")
    )["Policy"]
    iam.create_policy_version(
        PolicyArn=policy["Arn"], PolicyDocument=allow_text("s3:PutObject"), SetAsDefault=True
    )
    iam.create_user(UserName=user, Path=path, Tags=[{"Key": "k", "Value": "v"}])
    iam.create_group(GroupName=group, Path=path)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(
        UserName=user, PolicyName="inline", PolicyDocument=allow_text("s3:ListBucket")
    )
    iam.attach_group_policy(GroupName=group, PolicyArn=policy["Arn"])
    iam.create_role(RoleName=role, Path=path, AssumeRolePolicyDocument=trust_text())
    iam.attach_role_policy(RoleName=role, PolicyArn=S3_READ)

    pages = list(
        iam.get_paginator("get_account_authorization_details").paginate(
            PaginationConfig={"PageSize": 7}
        )
    )
    users = {u["UserName"]: u for p in pages for u in p["UserDetailList"]}
    groups = {g["GroupName"]: g for p in pages for g in p["GroupDetailList"]}
    roles = {r["RoleName"]: r for p in pages for r in p["RoleDetailList"]}
    policies = {q["Arn"]: q for p in pages for q in p["Policies"]}
    assert users[user]["GroupList"] == [group]
    assert users[user]["UserPolicyList"] == [
        {"PolicyName": "inline", "PolicyDocument": json.loads(allow_text("s3:ListBucket"))}
    ]
    assert users[user]["Tags"] == [{"Key": "k", "Value": "v"}]
    assert groups[group]["AttachedManagedPolicies"] == [
        {"PolicyName": policy["PolicyName"], "PolicyArn": policy["Arn"]}
    ]
    assert roles[role]["AssumeRolePolicyDocument"] == json.loads(trust_text())
    assert roles[role]["AttachedManagedPolicies"][0]["PolicyArn"] == S3_READ
    versions = policies[policy["Arn"]]["PolicyVersionList"]
    assert {v["VersionId"]: v["IsDefaultVersion"] for v in versions} == {
        "v2": True,
        "v1": False,
    }
    # AWS managed policies are listed where the account uses them, and only there.
    assert S3_READ in policies
    aws_managed = [
        q for q in policies.values() if q["Arn"].startswith("arn:aws:iam::aws:")
    ]
    assert all(
        q["AttachmentCount"] or q["PermissionsBoundaryUsageCount"] for q in aws_managed
    )

    only_roles = list(
        iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    )
    assert all(p["UserDetailList"] == [] and p["Policies"] == [] for p in only_roles)
    assert role in {r["RoleName"] for p in only_roles for r in p["RoleDetailList"]}


def test_entities_for_policy_errors(iam) -> None:
    account = iam.get_user()["User"]["Arn"].split(":")[4]
    missing = f"arn:aws:iam::{account}:policy/{unique_name('none')}"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_entities_for_policy(PolicyArn=missing)
    role = unique_name("r")
    iam.create_role(RoleName=role, Path=unique_path(), AssumeRolePolicyDocument=trust_text())
    iam.attach_role_policy(RoleName=role, PolicyArn=S3_READ)
    pages = iam.get_paginator("list_entities_for_policy").paginate(
        PolicyArn=S3_READ, EntityFilter="Role"
    )
    found = [p for p in pages]
    assert role in [r["RoleName"] for p in found for r in p["PolicyRoles"]]
    assert all(p["PolicyUsers"] == [] and p["PolicyGroups"] == [] for p in found)
