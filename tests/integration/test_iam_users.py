"""IAM users and groups through boto3 against a real server (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import unique_name, unique_path

ID = re.compile(r"^{}[A-Z2-7]{{17}}$")


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def account_of(iam) -> str:
    return iam.get_user()["User"]["Arn"].split(":")[4]


def test_create_get_user_with_path_and_tags(iam) -> None:
    name, path = unique_name("alice"), unique_path()
    created = iam.create_user(
        UserName=name, Path=path, Tags=[{"Key": "team", "Value": "ml"}]
    )["User"]
    account = account_of(iam)
    assert created["Arn"] == f"arn:aws:iam::{account}:user{path}{name}"
    assert re.fullmatch(ID.pattern.format("AIDA"), created["UserId"])
    assert created["Path"] == path
    assert abs(created["CreateDate"] - datetime.now(UTC)) < timedelta(minutes=1)
    assert created["Tags"] == [{"Key": "team", "Value": "ml"}]
    got = iam.get_user(UserName=name.upper())["User"]  # names are case-insensitive
    assert got["UserName"] == name and got["UserId"] == created["UserId"]
    assert got["Tags"] == [{"Key": "team", "Value": "ml"}]
    iam.get_waiter("user_exists").wait(
        UserName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 2}
    )


def test_user_errors(iam) -> None:
    name = unique_name("bob")
    iam.create_user(UserName=name)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException) as exc:
        iam.create_user(UserName=name.upper())
    assert error_of(exc) == ("EntityAlreadyExists", 409)
    assert (
        exc.value.response["Error"]["Message"]
        == f"User with name {name.upper()} already exists."
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_user(UserName="nobody-" + name)
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert (
        exc.value.response["Error"]["Message"]
        == f"The user with name nobody-{name} cannot be found."
    )
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="bad name!")
    assert error_of(exc) == ("ValidationError", 400)
    assert (
        "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        in exc.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName="x" * 65)
    assert error_of(exc) == ("ValidationError", 400)
    assert (
        "Member must have length less than or equal to 64"
        in exc.value.response["Error"]["Message"]
    )
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=unique_name("p"), Path="no-slashes")
    assert error_of(exc) == ("ValidationError", 400)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.delete_user(UserName="nobody-" + name)


def test_list_users_by_path_prefix_paginated(iam) -> None:
    path = unique_path()
    names = sorted(unique_name(f"u{i}") for i in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=path)
    iam.create_user(UserName=unique_name("elsewhere"))
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    pages = iam.get_paginator("list_users").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 2}
    )
    listed = [user["UserName"] for page in pages for user in page["Users"]]
    assert listed == names
    assert "Tags" not in first["Users"][0]


def test_paginating_while_deleting_sees_every_user(iam) -> None:
    path = unique_path()
    names = {unique_name("d") for _ in range(5)}
    for name in names:
        iam.create_user(UserName=name, Path=path)
    seen = []
    for page in iam.get_paginator("list_users").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 2}
    ):
        for user in page["Users"]:
            seen.append(user["UserName"])
            iam.delete_user(UserName=user["UserName"])
    assert set(seen) == names
    assert iam.list_users(PathPrefix=path)["Users"] == []


def test_update_user_renames_and_moves(iam) -> None:
    name, new_name, path = unique_name("old"), unique_name("new"), unique_path()
    user_id = iam.create_user(UserName=name)["User"]["UserId"]
    iam.update_user(UserName=name, NewUserName=new_name, NewPath=path)
    moved = iam.get_user(UserName=new_name)["User"]
    assert (
        moved["UserId"] == user_id
        and moved["Path"] == path
        and moved["Arn"].endswith(f":user{path}{new_name}")
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=name)
    other = unique_name("taken")
    iam.create_user(UserName=other)
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.update_user(UserName=new_name, NewUserName=other)


def test_user_tags(iam) -> None:
    name = unique_name("tagged")
    iam.create_user(UserName=name)
    iam.tag_user(
        UserName=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    )
    iam.tag_user(
        UserName=name, Tags=[{"Key": "A", "Value": "3"}]
    )  # replaces "a": keys ignore case
    assert iam.list_user_tags(UserName=name)["Tags"] == [
        {"Key": "b", "Value": "2"},
        {"Key": "A", "Value": "3"},
    ]
    iam.untag_user(UserName=name, TagKeys=["b", "missing"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "A", "Value": "3"}]
    with pytest.raises(iam.exceptions.InvalidInputException) as exc:
        iam.tag_user(
            UserName=name, Tags=[{"Key": "x", "Value": "1"}, {"Key": "X", "Value": "2"}]
        )
    assert error_of(exc) == ("InvalidInput", 400)
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.tag_user(
            UserName=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)]
        )
    assert error_of(exc) == ("LimitExceeded", 409)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_user_tags(UserName="nobody-" + name)


def test_get_user_without_name_is_the_caller(iam) -> None:
    root = iam.get_user()["User"]
    assert root["Arn"].endswith(":root") and root["UserId"] == root["Arn"].split(":")[4]


def test_groups_and_membership(iam) -> None:
    group, path = unique_name("grp"), unique_path()
    created = iam.create_group(GroupName=group, Path=path)["Group"]
    assert re.fullmatch(ID.pattern.format("AGPA"), created["GroupId"])
    assert created["Arn"].endswith(f":group{path}{group}")
    with pytest.raises(iam.exceptions.EntityAlreadyExistsException):
        iam.create_group(GroupName=group)
    users = sorted(unique_name("m") for _ in range(3))
    for user in users:
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=users[0])  # again: no change
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == users and got["Group"][
        "GroupId"
    ] == created["GroupId"]
    pages = iam.get_paginator("get_group").paginate(
        GroupName=group, PaginationConfig={"PageSize": 2}
    )
    assert [u["UserName"] for page in pages for u in page["Users"]] == users
    assert [
        g["GroupName"] for g in iam.list_groups_for_user(UserName=users[0])["Groups"]
    ] == [group]
    assert [g["GroupName"] for g in iam.list_groups(PathPrefix=path)["Groups"]] == [
        group
    ]

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_group(GroupName=group)
    assert error_of(exc) == ("DeleteConflict", 409)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must remove users from group first."
    )
    with pytest.raises(iam.exceptions.DeleteConflictException):
        iam.delete_user(UserName=users[0])
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.add_user_to_group(GroupName=group, UserName="nobody-" + group)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.add_user_to_group(GroupName="nogroup-" + group, UserName=users[0])

    for user in users:
        iam.remove_user_from_group(GroupName=group, UserName=user)
        iam.delete_user(UserName=user)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.remove_user_from_group(GroupName=group, UserName=users[0])
    renamed = unique_name("grp2")
    iam.update_group(GroupName=group, NewGroupName=renamed)
    iam.delete_group(GroupName=renamed)
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        iam.get_group(GroupName=renamed)
    assert (
        exc.value.response["Error"]["Message"]
        == f"The group with name {renamed} cannot be found."
    )
