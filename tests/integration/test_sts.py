"""STS: caller identity, roles assumed through trust policies, session tokens that expire."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow, create_role, create_user, unique_name


@pytest.fixture
def bucket_name(server: RunningServer) -> str:
    name = unique_name("sts")
    server.client("s3").create_bucket(Bucket=name)
    return name


def _assume(server: RunningServer, credentials, role_arn: str, **extra):
    return server.client("sts", credentials=credentials).assume_role(
        RoleArn=role_arn, RoleSessionName="trainer", **extra
    )


def test_get_caller_identity_names_root_users_and_sessions(server: RunningServer) -> None:
    root = server.client("sts").get_caller_identity()
    account = root["Account"]
    assert root["Arn"] == f"arn:aws:iam::{account}:root"
    assert root["UserId"] == account

    # Always allowed, whatever the policies say.
    user = create_user(
        server, policy={"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    )
    me = server.client("sts", credentials=user.credentials).get_caller_identity()
    assert me["Arn"] == user.arn
    assert me["UserId"].startswith("AIDA")
    assert me["UserId"] == server.client("iam").get_user(UserName=user.name)["User"]["UserId"]


def test_an_assumed_role_can_do_what_the_role_allows_and_nothing_more(server: RunningServer, bucket_name: str) -> None:
    user = create_user(server, policy=allow("sts:AssumeRole"))
    role_arn = create_role(
        server, trusted=user.arn, policy=allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{bucket_name}/out/*")
    )
    assumed = _assume(server, user.credentials, role_arn, DurationSeconds=900)
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    role_name = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4]
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account}:assumed-role/{role_name}/trainer"
    assert assumed["AssumedRoleUser"]["AssumedRoleId"].endswith(":trainer")
    expiry = credentials["Expiration"].timestamp() - time.time()
    assert 850 < expiry <= 900

    identity = server.client("sts", credentials=credentials).get_caller_identity()
    assert identity["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == assumed["AssumedRoleUser"]["AssumedRoleId"]

    s3 = server.client("s3", credentials=credentials)
    s3.put_object(Bucket=bucket_name, Key="out/model.tar.gz", Body=b"weights")
    assert s3.get_object(Bucket=bucket_name, Key="out/model.tar.gz")["Body"].read() == b"weights"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket_name, Key="elsewhere", Body=b"1")
    message = excinfo.value.response["Error"]["Message"]
    assert message.startswith(f"User: {assumed['AssumedRoleUser']['Arn']} is not authorized to perform: s3:PutObject")
    # The user itself was never given S3 rights.
    with pytest.raises(ClientError):
        server.client("s3", credentials=user.credentials).get_object(Bucket=bucket_name, Key="out/model.tar.gz")


def test_a_session_policy_caps_the_role(server: RunningServer, bucket_name: str) -> None:
    user = create_user(server, policy=allow("sts:AssumeRole"))
    role_arn = create_role(server, trusted=user.arn, policy=allow("s3:*"))
    session_policy = json.dumps(allow("s3:GetObject"))
    assumed = _assume(server, user.credentials, role_arn, Policy=session_policy)
    assert 0 < assumed["PackedPolicySize"] <= 100
    s3 = server.client("s3", credentials=assumed["Credentials"])
    server.client("s3").put_object(Bucket=bucket_name, Key="k", Body=b"v")
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"v"
    with pytest.raises(ClientError) as excinfo:
        s3.put_object(Bucket=bucket_name, Key="k2", Body=b"v")
    assert excinfo.value.response["Error"]["Message"].endswith(
        "because no session policy allows the s3:PutObject action"
    )


def test_assume_role_needs_both_the_trust_policy_and_an_identity_policy(server: RunningServer) -> None:
    trusted = create_user(server, prefix="trusted")
    permitted = create_user(server, prefix="permitted", policy=allow("sts:AssumeRole"))
    role_arn = create_role(server, trusted=trusted.arn)

    with pytest.raises(ClientError) as excinfo:  # trusted, but no identity policy allows it
        _assume(server, trusted.credentials, role_arn)
    assert error_of(excinfo) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as excinfo:  # allowed by its policy, but not trusted
        _assume(server, permitted.credentials, role_arn)
    assert error_of(excinfo) == ("AccessDenied", 403)
    assert excinfo.value.response["Error"]["Message"] == (
        f"User: {permitted.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    with pytest.raises(ClientError) as excinfo:
        server.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="root")
    assert error_of(excinfo) == ("AccessDenied", 403)
    assert excinfo.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."
    missing = role_arn.rsplit("/", 1)[0] + "/no-such-role"
    with pytest.raises(ClientError) as excinfo:
        _assume(server, permitted.credentials, missing)
    assert error_of(excinfo) == ("AccessDenied", 403)


def test_trust_policies_that_trust_the_account_delegate_to_identity_policies(server: RunningServer) -> None:
    account = server.client("sts").get_caller_identity()["Account"]
    role_arn = create_role(server, trusted=account, trust_condition={"StringEquals": {"sts:ExternalId": "s3cret"}})
    user = create_user(server, policy=allow("sts:AssumeRole", role_arn))
    with pytest.raises(ClientError):
        _assume(server, user.credentials, role_arn)
    with pytest.raises(ClientError):
        _assume(server, user.credentials, role_arn, ExternalId="wrong")
    assert _assume(server, user.credentials, role_arn, ExternalId="s3cret")["Credentials"]["SessionToken"]


def test_assume_role_validates_its_input(server: RunningServer) -> None:
    user = create_user(server, policy=allow("sts:AssumeRole"))
    role_arn = create_role(server, trusted=user.arn, max_session_duration=3600)
    sts = server.client("sts", credentials=user.credentials)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="has space")
    assert error_of(excinfo) == ("ValidationError", 400)
    assert (
        "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern"
        in (excinfo.value.response["Error"]["Message"])
    )
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="ok", DurationSeconds=7200)
    assert error_of(excinfo) == ("ValidationError", 400)
    assert "MaxSessionDuration" in excinfo.value.response["Error"]["Message"]
    unchecked = server.client("sts", credentials=user.credentials, parameter_validation=False)
    with pytest.raises(ClientError) as excinfo:
        unchecked.assume_role(RoleArn=role_arn, RoleSessionName="ok", DurationSeconds=60)
    assert error_of(excinfo) == ("ValidationError", 400)
    with pytest.raises(ClientError) as excinfo:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="ok", Policy='{"Statement": "nope"}')
    assert error_of(excinfo) == ("MalformedPolicyDocument", 400)


def test_role_chaining_is_limited_to_one_hour(server: RunningServer) -> None:
    user = create_user(server, policy=allow("sts:AssumeRole"))
    first = create_role(server, trusted=user.arn, policy=allow("sts:AssumeRole"), max_session_duration=7200)
    second = create_role(server, trusted=first, max_session_duration=7200)
    hop = _assume(server, user.credentials, first)["Credentials"]
    with pytest.raises(ClientError) as excinfo:
        _assume(server, hop, second, DurationSeconds=7200)
    assert error_of(excinfo) == ("ValidationError", 400)
    chained = _assume(server, hop, second)
    assert f"assumed-role/{second.rsplit('/', 1)[-1]}/trainer" in chained["AssumedRoleUser"]["Arn"]


def test_session_tokens_are_checked(server: RunningServer, bucket_name: str) -> None:
    user = create_user(server, policy=allow(["sts:AssumeRole", "s3:*"]))
    role_arn = create_role(server, trusted=user.arn, policy=allow("s3:*"))
    credentials = dict(_assume(server, user.credentials, role_arn)["Credentials"])
    without_token = {k: v for k, v in credentials.items() if k != "SessionToken"}
    with pytest.raises(ClientError) as excinfo:
        server.client("s3", credentials=without_token).list_objects_v2(Bucket=bucket_name)
    assert error_of(excinfo) == ("InvalidToken", 400)
    forged = {**credentials, "SessionToken": credentials["SessionToken"][:-4] + "AAAA"}
    with pytest.raises(ClientError) as excinfo:
        server.client("sts", credentials=forged).get_caller_identity()
    assert error_of(excinfo) == ("InvalidClientTokenId", 403)
    long_term_with_token = {**user.credentials, "SessionToken": credentials["SessionToken"]}
    with pytest.raises(ClientError) as excinfo:
        server.client("s3", credentials=long_term_with_token).list_objects_v2(Bucket=bucket_name)
    assert error_of(excinfo) == ("InvalidToken", 400)


def test_get_session_token_acts_as_the_user(server: RunningServer, bucket_name: str) -> None:
    user = create_user(server, policy=allow(["s3:ListBucket", "iam:GetUser"]))
    token = server.client("sts", credentials=user.credentials).get_session_token(DurationSeconds=900)["Credentials"]
    assert token["AccessKeyId"].startswith("ASIA")
    sts = server.client("sts", credentials=token)
    assert sts.get_caller_identity()["Arn"] == user.arn
    assert server.client("s3", credentials=token).list_objects_v2(Bucket=bucket_name)["KeyCount"] == 0
    with pytest.raises(ClientError) as excinfo:
        sts.get_session_token()
    assert error_of(excinfo) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as excinfo:  # IAM needs MFA-backed session credentials
        server.client("iam", credentials=token).get_user()
    assert error_of(excinfo) == ("InvalidClientTokenId", 403)


def test_the_aws_cli_assume_role_output_works_as_credentials(server: RunningServer, bucket_name: str) -> None:
    user = create_user(server, policy=allow("sts:AssumeRole"))
    role_arn = create_role(server, trusted=user.arn, policy=allow("s3:ListBucket"))
    env = {
        **server.client_env(),
        "AWS_ACCESS_KEY_ID": user.credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": user.credentials["SecretAccessKey"],
    }
    env.pop("AWS_PROFILE")
    endpoint = ["--endpoint-url", server.endpoint_url, "--region", server.region, "--output", "json"]
    assumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "awscli",
            "sts",
            "assume-role",
            "--role-arn",
            role_arn,
            "--role-session-name",
            "cli",
            *endpoint,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    credentials = json.loads(assumed.stdout)["Credentials"]
    env.update(
        AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
        AWS_SESSION_TOKEN=credentials["SessionToken"],
    )
    listed = subprocess.run(
        [sys.executable, "-m", "awscli", "s3api", "list-objects-v2", "--bucket", bucket_name, *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    who = subprocess.run(
        [sys.executable, "-m", "awscli", "sts", "get-caller-identity", *endpoint],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(who.stdout)["Arn"].endswith(":assumed-role/" + role_arn.rsplit("/", 1)[-1] + "/cli")


def test_credentials_die_at_expiry_even_across_a_restart(tmp_path) -> None:
    with start_server(tmp_path) as server:
        user = create_user(server, policy=allow(["sts:AssumeRole"]))
        role_arn = create_role(server, trusted=user.arn, policy=allow("s3:ListAllMyBuckets"))
        credentials = _assume(server, user.credentials, role_arn, DurationSeconds=900)["Credentials"]
        s3 = server.client("s3", credentials=credentials)
        assert s3.list_buckets()["Buckets"] == []
        server.stop()
        # Move the session's expiry into the past, as if its 15 minutes had gone by.
        with sqlite3.connect(server.data_dir / "shipyard.db") as db:
            changed = db.execute(
                "UPDATE sts_sessions SET expires_ms = expires_ms - 901000 WHERE access_key_id = ?",
                (credentials["AccessKeyId"],),
            ).rowcount
        assert changed == 1
        server.start()
        with pytest.raises(ClientError) as excinfo:
            server.client("s3", credentials=credentials).list_buckets()
        assert error_of(excinfo) == ("ExpiredToken", 400)
        sts = server.client("sts", credentials=credentials)
        with pytest.raises(ClientError) as excinfo:
            sts.get_caller_identity()
        assert error_of(excinfo) == ("ExpiredToken", 403)
        # The user's own long-term key is unaffected.
        assert server.client("sts", credentials=user.credentials).get_caller_identity()["Arn"] == user.arn
