"""Make IAM users and roles on a running server (with its root key), for tests and benches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shipyard.testing.server import RunningServer

Document = Mapping[str, Any]


@dataclass(frozen=True)
class IamUser:
    """An IAM user with one access key."""

    name: str
    arn: str
    #: ``AccessKeyId`` and ``SecretAccessKey``, as ``RunningServer.client(credentials=...)`` takes them.
    credentials: Mapping[str, str]


def unique_name(prefix: str) -> str:
    """``prefix`` and 8 random hex digits: names that never collide between tests."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def unique_path() -> str:
    """An IAM path of its own, so that listings under it see only one test's entities."""
    return f"/t{uuid.uuid4().hex[:12]}/"


def allow(actions: str | list[str], resources: str | list[str] = "*", **statement: Any) -> dict[str, Any]:
    """A one-statement identity policy allowing ``actions`` on ``resources``."""
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources, **statement}]}


def allow_text(actions: str | list[str], resources: str | list[str] = "*", **statement: Any) -> str:
    """:func:`allow` as the JSON text IAM's ``PolicyDocument`` parameters take."""
    return json.dumps(allow(actions, resources, **statement))


def trust_text(service: str = "sagemaker.amazonaws.com") -> str:
    """A trust policy (JSON text) letting the AWS service ``service`` assume a role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def create_user(
    server: RunningServer,
    *,
    prefix: str = "user",
    policy: Document | None = None,
    managed: tuple[str, ...] = (),
    boundary: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> IamUser:
    """A new user with an access key, its inline ``policy``, ``managed`` policy ARNs and boundary."""
    iam = server.client("iam")
    name = unique_name(prefix)
    extra: dict[str, Any] = {}
    if boundary:
        extra["PermissionsBoundary"] = boundary
    if tags:
        extra["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    arn = iam.create_user(UserName=name, **extra)["User"]["Arn"]
    if policy is not None:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    for policy_arn in managed:
        iam.attach_user_policy(UserName=name, PolicyArn=policy_arn)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return IamUser(name, arn, {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]})


def create_role(
    server: RunningServer,
    *,
    trusted: str | list[str],
    policy: Document | None = None,
    prefix: str = "role",
    max_session_duration: int = 3600,
    trust_condition: Document | None = None,
) -> str:
    """A new role that ``trusted`` (principal ARNs or account ids) may assume; its ARN."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}
    if trust_condition:
        statement["Condition"] = trust_condition
    iam = server.client("iam")
    name = unique_name(prefix)
    arn = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        MaxSessionDuration=max_session_duration,
    )["Role"]["Arn"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    return arn
