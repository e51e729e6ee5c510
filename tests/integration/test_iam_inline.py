"""Inline policies of users, groups and roles, and their size quotas."""

from __future__ import annotations

import json

import pytest

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow_text, trust_text, unique_name


@pytest.fixture
def iam(server: RunningServer):
    return server.client("iam")


@pytest.mark.parametrize("kind", ["User", "Group", "Role"])
def test_put_get_list_delete(iam, kind: str) -> None:
    name = unique_name(kind.lower())
    if kind == "Role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())
    else:
        getattr(iam, f"create_{kind.lower()}")(**{f"{kind}Name": name})
    entity = {f"{kind}Name": name}
    put = getattr(iam, f"put_{kind.lower()}_policy")
    document = '{"Version": "2012-10-17",\n  "Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}}'
    put(**entity, PolicyName="b-read", PolicyDocument=document)
    put(**entity, PolicyName="a-write", PolicyDocument=allow_text("s3:PutObject"))
    put(
        **entity, PolicyName="a-write", PolicyDocument=allow_text("s3:DeleteObject")
    )  # replaces
    got = getattr(iam, f"get_{kind.lower()}_policy")(**entity, PolicyName="b-read")
    assert got[f"{kind}Name"] == name and got["PolicyName"] == "b-read"
    assert got["PolicyDocument"] == json.loads(document)
    replaced = getattr(iam, f"get_{kind.lower()}_policy")(
        **entity, PolicyName="a-write"
    )
    assert replaced["PolicyDocument"]["Statement"][0]["Action"] == "s3:DeleteObject"
    lister = getattr(iam, f"list_{kind.lower()}_policies")
    assert lister(**entity)["PolicyNames"] == ["a-write", "b-read"]
    first = lister(**entity, MaxItems=1)
    assert first["IsTruncated"] is True and first["PolicyNames"] == ["a-write"]
    assert lister(**entity, Marker=first["Marker"])["PolicyNames"] == ["b-read"]

    with pytest.raises(iam.exceptions.DeleteConflictException) as exc:
        getattr(iam, f"delete_{kind.lower()}")(**entity)
    assert (
        exc.value.response["Error"]["Message"]
        == "Cannot delete entity, must delete policies first."
    )
    delete = getattr(iam, f"delete_{kind.lower()}_policy")
    delete(**entity, PolicyName="a-write")
    with pytest.raises(iam.exceptions.NoSuchEntityException) as exc:
        delete(**entity, PolicyName="a-write")
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert (
        exc.value.response["Error"]["Message"]
        == f"The {kind.lower()} policy with name a-write cannot be found."
    )
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        put(**entity, PolicyName="bad", PolicyDocument='{"Statement": []}')
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        put(
            **{f"{kind}Name": "missing-" + name},
            PolicyName="p",
            PolicyDocument=allow_text("s3:GetObject"),
        )


@pytest.mark.parametrize(
    ("kind", "quota"), [("User", 2048), ("Group", 5120), ("Role", 10240)]
)
def test_inline_policies_share_a_size_quota(iam, kind: str, quota: int) -> None:
    name = unique_name(kind.lower())
    if kind == "Role":
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_text())
    else:
        getattr(iam, f"create_{kind.lower()}")(**{f"{kind}Name": name})
    put = getattr(iam, f"put_{kind.lower()}_policy")
    half = allow_text([f"s3:GetObject{i:04d}" for i in range(quota // 2 // 18)])
    put(**{f"{kind}Name": name}, PolicyName="one", PolicyDocument=half)
    with pytest.raises(iam.exceptions.LimitExceededException) as exc:
        put(**{f"{kind}Name": name}, PolicyName="two", PolicyDocument=half)
    assert error_of(exc) == ("LimitExceeded", 409)
    assert exc.value.response["Error"]["Message"] == (
        f"Maximum policy size of {quota} bytes exceeded for {kind.lower()} {name}"
    )
    put(
        **{f"{kind}Name": name}, PolicyName="one", PolicyDocument=half
    )  # replacing itself fits
