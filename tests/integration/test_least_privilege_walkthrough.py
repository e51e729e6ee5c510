"""The README's least-privilege walkthrough, command by command, with the AWS CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shipyard.testing import RunningServer
from shipyard.testing.identities import unique_name


class Cli:
    """``aws`` with the server's profile: its root key, or other credentials from the environment.

    (The profile still gives the endpoint: environment credentials win over the profile's.)
    """

    def __init__(self, server: RunningServer, credentials: dict[str, str] | None = None) -> None:
        self.env = {**server.client_env(), **(credentials or {})}

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "awscli", *args, "--output", "json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self(*args).stdout)


def _document(statement: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def test_least_privilege_walkthrough(sqlite_server: RunningServer, tmp_path: Path) -> None:
    root = Cli(sqlite_server)
    account = root.json("sts", "get-caller-identity")["Account"]
    bucket, analyst, trainer = unique_name("datasets"), unique_name("analyst"), unique_name("trainer")
    data = tmp_path / "iris.csv"
    data.write_text("sepal,petal\n5.1,1.4\n")
    root("s3", "mb", f"s3://{bucket}")
    root("s3", "cp", str(data), f"s3://{bucket}/public/iris.csv")

    # 1. A user who may read <bucket>/public/* and nothing else.
    root("iam", "create-user", "--user-name", analyst)
    read_public = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/public/*"}
    root(
        "iam",
        "put-user-policy",
        "--user-name",
        analyst,
        "--policy-name",
        "read-public",
        "--policy-document",
        _document(read_public),
    )
    key = root.json("iam", "create-access-key", "--user-name", analyst)["AccessKey"]

    # 2. A role that writes models, which the analyst may assume.
    trust = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{account}:user/{analyst}"},
    }
    root("iam", "create-role", "--role-name", trainer, "--assume-role-policy-document", _document(trust))
    models = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{bucket}/models/*",
    }
    root(
        "iam",
        "put-role-policy",
        "--role-name",
        trainer,
        "--policy-name",
        "models",
        "--policy-document",
        _document(models),
    )
    role_arn = f"arn:aws:iam::{account}:role/{trainer}"
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}
    root(
        "iam",
        "put-user-policy",
        "--user-name",
        analyst,
        "--policy-name",
        "assume-trainer",
        "--policy-document",
        _document(assume),
    )

    # 3. The simulator answers as the server will.
    simulated = root.json(
        "iam",
        "simulate-principal-policy",
        "--policy-source-arn",
        f"arn:aws:iam::{account}:user/{analyst}",
        "--action-names",
        "s3:GetObject",
        "s3:PutObject",
        "--resource-arns",
        f"arn:aws:s3:::{bucket}/public/iris.csv",
    )
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in simulated["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}

    # As the analyst: reads public/, nothing else.
    as_analyst = Cli(
        sqlite_server, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    )
    assert as_analyst("s3", "cp", f"s3://{bucket}/public/iris.csv", "-").stdout == data.read_text()
    refused = as_analyst("s3", "cp", str(data), f"s3://{bucket}/public/copy.csv", check=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
    assert as_analyst.json("sts", "get-caller-identity")["Arn"] == f"arn:aws:iam::{account}:user/{analyst}"

    # As the role: writes models/, nothing else.
    credentials = as_analyst.json("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "run1")[
        "Credentials"
    ]
    as_trainer = Cli(
        sqlite_server,
        {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        },
    )
    as_trainer("s3", "cp", str(data), f"s3://{bucket}/models/model.csv")
    refused = as_trainer("s3", "cp", f"s3://{bucket}/public/iris.csv", "-", check=False)
    assert refused.returncode != 0 and "(403) when calling the HeadObject operation" in refused.stderr
    assert root("s3", "cp", f"s3://{bucket}/models/model.csv", "-").stdout == data.read_text()

    # The trail shows the analyst's calls, the refused one with its reason.
    found = root.json(
        "cloudtrail", "lookup-events", "--lookup-attributes", f"AttributeKey=Username,AttributeValue={analyst}"
    )["Events"]
    records = [json.loads(event["CloudTrailEvent"]) for event in found]
    refused_put = [r for r in records if r["eventName"] == "PutObject"]
    assert refused_put and all(r["errorCode"] == "AccessDenied" for r in refused_put)
    assert {"GetObject", "HeadObject", "AssumeRole", "GetCallerIdentity"} <= {r["eventName"] for r in records}
    shown = subprocess.run(
        [sys.executable, "-m", "shipyard", "audit", "--user", analyst, "--event", "PutObject", "--json"],
        env=root.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [r["errorCode"] for r in json.loads(shown.stdout)] == ["AccessDenied"] * len(refused_put)
