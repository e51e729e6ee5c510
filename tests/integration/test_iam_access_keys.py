"""Access keys of IAM users: at most two, Active/Inactive, and they sign requests as the user."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import unique_name, unique_path


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


def client_for(server: RunningServer, key: dict) -> object:
    return boto3.session.Session().client(
        "iam",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def user_that_may_get_itself(iam, name: str, path: str = "/") -> str:
    arn = iam.create_user(UserName=name, Path=path)["User"]["Arn"]
    statement = {
        "Effect": "Allow",
        "Action": ["iam:GetUser", "iam:ListAccessKeys"],
        "Resource": arn,
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    iam.put_user_policy(
        UserName=name, PolicyName="self", PolicyDocument=json.dumps(document)
    )
    return arn


def test_create_list_update_delete(iam) -> None:
    name = unique_name("keys")
    iam.create_user(UserName=name)
    first = iam.create_access_key(UserName=name)["AccessKey"]
    assert first["UserName"] == name and first["Status"] == "Active"
    assert (
        re.fullmatch(r"AKIA[A-Z2-7]{16}", first["AccessKeyId"])
        and len(first["SecretAccessKey"]) == 40
    )
    second = iam.create_access_key(UserName=name)["AccessKey"]
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        iam.create_access_key(UserName=name)
    assert error_of(exc) == ("LimitExceeded", 409)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot exceed quota for AccessKeysPerUser: 2"
    )
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [
        first["AccessKeyId"],
        second["AccessKeyId"],
    ]
    assert all("SecretAccessKey" not in k and k["UserName"] == name for k in listed)

    iam.update_access_key(
        UserName=name, AccessKeyId=first["AccessKeyId"], Status="Inactive"
    )
    statuses = {
        k["AccessKeyId"]: k["Status"]
        for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    }
    assert statuses == {
        first["AccessKeyId"]: "Inactive",
        second["AccessKeyId"]: "Active",
    }
    last_used = iam.get_access_key_last_used(AccessKeyId=first["AccessKeyId"])
    assert (
        last_used["UserName"] == name
        and last_used["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    )

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        iam.delete_user(UserName=name)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must delete access keys first."
    )
    other = unique_name("other")
    iam.create_user(UserName=other)
    with pytest.raises(
        iam.exceptions.NoSuchEntityException
    ) as exc:  # not that user's key
        iam.delete_access_key(UserName=other, AccessKeyId=first["AccessKeyId"])
    assert (
        exc.value.response["Error"]["Message"]
        == f"The Access Key with id {first['AccessKeyId']} cannot be found."
    )
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.update_access_key(
            UserName=other, AccessKeyId=first["AccessKeyId"], Status="Active"
        )
    with pytest.raises(ClientError) as exc:
        iam.update_access_key(
            UserName=name, AccessKeyId=first["AccessKeyId"], Status="Sleeping"
        )
    assert error_of(exc) == ("ValidationError", 400)
    for key in (first, second):
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
    iam.delete_user(UserName=name)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.create_access_key(UserName=name)


def test_a_users_key_signs_as_that_user(server: RunningServer, iam) -> None:
    name = unique_name("signer")
    arn = user_that_may_get_itself(iam, name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    as_user = client_for(server, key)
    assert as_user.get_user()["User"]["Arn"] == arn
    # Without UserName, key operations act on the caller.
    assert [
        k["AccessKeyId"] for k in as_user.list_access_keys()["AccessKeyMetadata"]
    ] == [key["AccessKeyId"]]
    iam.update_access_key(
        UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive"
    )
    with pytest.raises(ClientError) as exc:
        as_user.get_user()
    assert error_of(exc)[1] == 403


def test_renaming_a_user_moves_its_keys(server: RunningServer, iam) -> None:
    name, new_name, path = unique_name("before"), unique_name("after"), unique_path()
    user_that_may_get_itself(iam, name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    assert client_for(server, key).get_user()["User"]["UserName"] == name
    iam.update_user(UserName=name, NewUserName=new_name, NewPath=path)
    assert [
        k["AccessKeyId"]
        for k in iam.list_access_keys(UserName=new_name)["AccessKeyMetadata"]
    ] == [key["AccessKeyId"]]
    iam.delete_user_policy(UserName=new_name, PolicyName="self")
    iam.put_user_policy(
        UserName=new_name,
        PolicyName="self",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}
                ],
            }
        ),
    )
    moved = client_for(server, key).get_user()["User"]
    assert moved["UserName"] == new_name and moved["Arn"].endswith(
        f":user{path}{new_name}"
    )


def test_keys_of_a_missing_user(iam) -> None:
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.list_access_keys(UserName=unique_name("ghost"))
