"""Policies are enforced on every request, and denials say why, as AWS words it."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.identities import allow, create_role, create_user, unique_name


def _denied(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    error = excinfo.value.response["Error"]
    assert error["Code"] == "AccessDenied", error
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return error["Message"]


@pytest.fixture
def datasets(server: RunningServer) -> str:
    """A bucket with ``public/a.csv`` and ``private/b.csv``."""
    s3 = server.client("s3")
    name = unique_name("datasets")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="public/a.csv", Body=b"x,y\n1,2\n")
    s3.put_object(Bucket=name, Key="private/b.csv", Body=b"secret\n")
    return name


def test_a_user_limited_to_one_prefix_reads_there_and_nowhere_else(server: RunningServer, datasets: str) -> None:
    analyst = create_user(server, prefix="analyst", policy=allow("s3:GetObject", f"arn:aws:s3:::{datasets}/public/*"))
    s3 = server.client("s3", credentials=analyst.credentials)

    assert s3.get_object(Bucket=datasets, Key="public/a.csv")["Body"].read() == b"x,y\n1,2\n"
    assert s3.head_object(Bucket=datasets, Key="public/a.csv")["ContentLength"] == 8

    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=datasets, Key="private/b.csv")
    assert _denied(excinfo) == (
        f"User: {analyst.arn} is not authorized to perform: s3:GetObject on resource: "
        f'"arn:aws:s3:::{datasets}/private/b.csv" because no identity-based policy allows the s3:GetObject action'
    )
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=datasets, Key="public/new.csv", Body=b"1")
    assert "s3:PutObject" in _denied(excinfo)
    with pytest.raises(ClientError) as excinfo:
        s3.list_objects_v2(Bucket=datasets, Prefix="public/")
    assert f'on resource: "arn:aws:s3:::{datasets}" because no identity-based policy allows the s3:ListBucket' in (
        _denied(excinfo)
    )
    with pytest.raises(ClientError) as excinfo:
        s3.list_buckets()
    assert "s3:ListAllMyBuckets" in _denied(excinfo)
    with pytest.raises(ClientError) as excinfo:
        s3.delete_object(Bucket=datasets, Key="public/a.csv")
    _denied(excinfo)
    # Nothing a denied request asked for happened.
    assert server.client("s3").get_object(Bucket=datasets, Key="public/a.csv")["ContentLength"] == 8
    iam = server.client("iam", credentials=analyst.credentials)
    with pytest.raises(ClientError) as excinfo:
        iam.create_user(UserName=unique_name("intruder"))
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    assert "iam:CreateUser" in excinfo.value.response["Error"]["Message"]


def test_the_aws_cli_sees_the_same_rules(server: RunningServer, datasets: str, tmp_path) -> None:
    analyst = create_user(server, prefix="analyst", policy=allow("s3:GetObject", f"arn:aws:s3:::{datasets}/public/*"))
    env = {
        **server.client_env(),
        "AWS_ACCESS_KEY_ID": analyst.credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": analyst.credentials["SecretAccessKey"],
    }
    env.pop("AWS_PROFILE")
    endpoint = ["--endpoint-url", server.endpoint_url, "--region", server.region]
    allowed = subprocess.run(
        [sys.executable, "-m", "awscli", "s3", "cp", f"s3://{datasets}/public/a.csv", "-", *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout == "x,y\n1,2\n"
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "s3api",
            "get-object",
            "--bucket",
            datasets,
            "--key",
            "private/b.csv",
            str(tmp_path / "out"),
            *endpoint,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr
    assert "because no identity-based policy allows the s3:GetObject action" in refused.stderr


def test_an_explicit_deny_wins_and_says_so(server: RunningServer, datasets: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{datasets}/private/*"},
        ],
    }
    user = create_user(server, policy=policy)
    s3 = server.client("s3", credentials=user.credentials)
    assert s3.list_objects_v2(Bucket=datasets)["KeyCount"] == 2
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=datasets, Key="private/b.csv")
    assert _denied(excinfo).endswith("with an explicit deny in an identity-based policy")


def test_a_permissions_boundary_caps_what_policies_allow(server: RunningServer, datasets: str) -> None:
    user = create_user(
        server,
        managed=("arn:aws:iam::aws:policy/AdministratorAccess",),
        boundary="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    )
    s3 = server.client("s3", credentials=user.credentials)
    assert s3.get_object(Bucket=datasets, Key="private/b.csv")["Body"].read() == b"secret\n"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=datasets, Key="x", Body=b"1")
    assert _denied(excinfo).endswith("because no permissions boundary allows the s3:PutObject action")


def test_bucket_policies_grant_and_deny_named_principals_only(server: RunningServer, datasets: str) -> None:
    reader = create_user(server, prefix="reader")
    other = create_user(server, prefix="other", policy=allow("s3:GetObject"))
    blocked = create_user(server, prefix="blocked", policy=allow("s3:GetObject"))
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": reader.arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{datasets}/public/*",
            },
            {
                "Effect": "Deny",
                "Principal": {"AWS": blocked.arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{datasets}/*",
            },
        ],
    }
    server.client("s3").put_bucket_policy(Bucket=datasets, Policy=json.dumps(bucket_policy))

    # A grant naming the user needs no identity policy...
    assert server.client("s3", credentials=reader.credentials).get_object(Bucket=datasets, Key="public/a.csv")
    with pytest.raises(ClientError) as excinfo:
        server.client("s3", credentials=reader.credentials).get_object(Bucket=datasets, Key="private/b.csv")
    _denied(excinfo)
    # ...a Deny naming one user does not touch another...
    assert server.client("s3", credentials=other.credentials).get_object(Bucket=datasets, Key="private/b.csv")
    # ...and beats that user's own Allow.
    with pytest.raises(ClientError) as excinfo:
        server.client("s3", credentials=blocked.credentials).get_object(Bucket=datasets, Key="public/a.csv")
    assert _denied(excinfo).endswith("with an explicit deny in a resource-based policy")

    server.client("s3").delete_bucket_policy(Bucket=datasets)
    with pytest.raises(ClientError):
        server.client("s3", credentials=reader.credentials).get_object(Bucket=datasets, Key="public/a.csv")
    assert server.client("s3", credentials=blocked.credentials).get_object(Bucket=datasets, Key="public/a.csv")


def test_anonymous_requests_need_a_public_grant(server: RunningServer, datasets: str) -> None:
    anonymous = boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=server.region,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as excinfo:
        anonymous.get_object(Bucket=datasets, Key="public/a.csv")
    assert _denied(excinfo) == "Access Denied"

    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{datasets}/public/*",
            }
        ],
    }
    server.client("s3").put_bucket_policy(Bucket=datasets, Policy=json.dumps(public_read))
    assert anonymous.get_object(Bucket=datasets, Key="public/a.csv")["Body"].read() == b"x,y\n1,2\n"
    for call in (
        lambda: anonymous.get_object(Bucket=datasets, Key="private/b.csv"),
        lambda: anonymous.put_object(Bucket=datasets, Key="public/evil", Body=b"1"),
        lambda: anonymous.list_objects_v2(Bucket=datasets),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert _denied(excinfo) == "Access Denied"


def test_conditions_see_the_request(server: RunningServer, datasets: str) -> None:
    policy = allow("s3:ListBucket", f"arn:aws:s3:::{datasets}", Condition={"StringLike": {"s3:prefix": ["public/*"]}})
    user = create_user(server, policy=policy)
    s3 = server.client("s3", credentials=user.credentials)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=datasets, Prefix="public/")["Contents"]] == ["public/a.csv"]
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=datasets, Prefix="private/")
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=datasets)


def test_policy_variables_scope_each_user_to_a_home_prefix(server: RunningServer, datasets: str) -> None:
    policy = allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{datasets}/home/${{aws:username}}/*")
    alice = create_user(server, prefix="alice", policy=policy)
    bob = create_user(server, prefix="bob", policy=policy)
    s3 = server.client("s3", credentials=alice.credentials)
    s3.put_object(Bucket=datasets, Key=f"home/{alice.name}/notes.txt", Body=b"mine")
    with pytest.raises(ClientError):
        s3.put_object(Bucket=datasets, Key=f"home/{bob.name}/notes.txt", Body=b"not mine")
    with pytest.raises(ClientError):
        server.client("s3", credentials=bob.credentials).get_object(Bucket=datasets, Key=f"home/{alice.name}/notes.txt")


def test_changes_to_policies_apply_to_the_next_request(server: RunningServer, datasets: str) -> None:
    user = create_user(server)
    s3 = server.client("s3", credentials=user.credentials)
    with pytest.raises(ClientError):
        s3.get_object(Bucket=datasets, Key="public/a.csv")
    iam = server.client("iam")
    iam.put_user_policy(UserName=user.name, PolicyName="read", PolicyDocument=json.dumps(allow("s3:GetObject")))
    assert s3.get_object(Bucket=datasets, Key="public/a.csv")["ContentLength"] == 8
    iam.delete_user_policy(UserName=user.name, PolicyName="read")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=datasets, Key="public/a.csv")


def test_a_disabled_access_key_is_refused(server: RunningServer) -> None:
    user = create_user(server, policy=allow(["s3:ListAllMyBuckets", "sts:GetCallerIdentity"]))
    iam = server.client("iam")
    iam.update_access_key(UserName=user.name, AccessKeyId=user.credentials["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError) as excinfo:
        server.client("s3", credentials=user.credentials).list_buckets()
    assert excinfo.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as excinfo:
        server.client("sts", credentials=user.credentials).get_caller_identity()
    assert excinfo.value.response["Error"]["Code"] == "InvalidClientTokenId"
    iam.update_access_key(UserName=user.name, AccessKeyId=user.credentials["AccessKeyId"], Status="Active")
    assert server.client("s3", credentials=user.credentials).list_buckets()["Buckets"] is not None


def test_existing_object_tags_are_condition_keys(server: RunningServer, datasets: str) -> None:
    root = server.client("s3")
    root.put_object(Bucket=datasets, Key="public/open.csv", Body=b"1", Tagging="classification=open")
    root.put_object(Bucket=datasets, Key="public/pii.csv", Body=b"2", Tagging="classification=pii")
    policy = allow(
        "s3:GetObject",
        f"arn:aws:s3:::{datasets}/*",
        Condition={"StringEquals": {"s3:ExistingObjectTag/classification": "open"}},
    )
    s3 = server.client("s3", credentials=create_user(server, policy=policy).credentials)
    assert s3.get_object(Bucket=datasets, Key="public/open.csv")["Body"].read() == b"1"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=datasets, Key="public/pii.csv")
    _denied(excinfo)
    root.put_object_tagging(
        Bucket=datasets, Key="public/pii.csv", Tagging={"TagSet": [{"Key": "classification", "Value": "open"}]}
    )
    assert s3.get_object(Bucket=datasets, Key="public/pii.csv")["Body"].read() == b"2"


def test_the_audit_trail_shows_each_call_with_its_outcome(server: RunningServer, datasets: str) -> None:
    analyst = create_user(server, prefix="analyst", policy=allow(["s3:GetObject", "sts:AssumeRole"]))
    role_arn = create_role(server, trusted=analyst.arn, policy=allow("s3:ListBucket"))
    s3 = server.client("s3", credentials=analyst.credentials)
    s3.get_object(Bucket=datasets, Key="public/a.csv")
    with pytest.raises(ClientError):
        s3.put_object(Bucket=datasets, Key="public/x.csv", Body=b"1")
    session = server.client("sts", credentials=analyst.credentials).assume_role(
        RoleArn=role_arn, RoleSessionName="audited"
    )["Credentials"]
    server.client("s3", credentials=session).list_objects_v2(Bucket=datasets)
    iam = server.client("iam")
    iam.update_access_key(UserName=analyst.name, AccessKeyId=analyst.credentials["AccessKeyId"], Status="Inactive")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=datasets, Key="public/a.csv")

    def events(key: str, value: str) -> list[dict]:
        found = server.client("cloudtrail").lookup_events(
            LookupAttributes=[{"AttributeKey": key, "AttributeValue": value}], MaxResults=50
        )["Events"]
        return [json.loads(event["CloudTrailEvent"]) for event in reversed(found)]

    by_key = events("AccessKeyId", analyst.credentials["AccessKeyId"])
    assert [(e["eventName"], e.get("errorCode")) for e in by_key] == [
        ("GetObject", None),
        ("PutObject", "AccessDenied"),
        ("AssumeRole", None),
        ("GetObject", "InvalidAccessKeyId"),
    ]
    denied = by_key[1]
    assert denied["userIdentity"]["arn"] == analyst.arn
    assert "because no identity-based policy allows the s3:PutObject action" in denied["errorMessage"]
    assert {r["ARN"] for r in denied["resources"]} >= {f"arn:aws:s3:::{datasets}/public/x.csv"}
    [listed] = events("AccessKeyId", session["AccessKeyId"])
    assert listed["eventName"] == "ListObjectsV2" and listed.get("errorCode") is None
    assert listed["userIdentity"]["arn"].endswith("/audited")


def test_delete_objects_refuses_key_by_key(server: RunningServer, datasets: str) -> None:
    user = create_user(server, policy=allow("s3:DeleteObject", f"arn:aws:s3:::{datasets}/public/*"))
    s3 = server.client("s3", credentials=user.credentials)
    answer = s3.delete_objects(
        Bucket=datasets, Delete={"Objects": [{"Key": "public/a.csv"}, {"Key": "private/b.csv"}]}
    )
    assert [d["Key"] for d in answer["Deleted"]] == ["public/a.csv"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("private/b.csv", "AccessDenied")]
    remaining = server.client("s3").list_objects_v2(Bucket=datasets)["Contents"]
    assert [o["Key"] for o in remaining] == ["private/b.csv"]


def test_resource_tags_of_buckets_and_principal_tags_meet_in_conditions(server: RunningServer) -> None:
    root = server.client("s3")
    ours, theirs = unique_name("team-a"), unique_name("team-b")
    for name, team in ((ours, "a"), (theirs, "b")):
        root.create_bucket(Bucket=name)
        root.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "team", "Value": team}]})
        root.put_object(Bucket=name, Key="k", Body=team.encode())
    policy = allow(
        "s3:GetObject",
        "arn:aws:s3:::*/*",
        Condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    )
    s3 = server.client("s3", credentials=create_user(server, policy=policy, tags={"team": "a"}).credentials)
    assert s3.get_object(Bucket=ours, Key="k")["Body"].read() == b"a"
    with pytest.raises(ClientError) as excinfo:
        s3.get_object(Bucket=theirs, Key="k")
    _denied(excinfo)
