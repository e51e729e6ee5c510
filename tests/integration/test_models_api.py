"""Models through boto3: CreateModel, DescribeModel, ListModels, DeleteModel, tags, errors."""

from __future__ import annotations

import datetime as dt
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import trust_text, unique_name
from shipyard.testing.jobs import SKLEARN_IMAGE, sagemaker_role

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
MODEL_DATA = "s3://models/xgb/output/model.tar.gz"
AWS = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def sagemaker(sqlite_server: RunningServer) -> Any:
    """A client that leaves every check to the server (boto3 would check minimums itself)."""
    return sqlite_server.client("sagemaker", parameter_validation=False)


@pytest.fixture(scope="module")
def role(algorithm_role: str) -> str:
    return algorithm_role


def _account(server: RunningServer) -> str:
    return server.client("sts").get_caller_identity()["Account"]


def _xgboost(**extra: Any) -> dict[str, Any]:
    return {"Image": XGBOOST_IMAGE, "ModelDataUrl": MODEL_DATA, **extra}


def _refused(sagemaker: Any, **request: Any) -> tuple[str, str]:
    """The error code and message CreateModel answers ``request`` with."""
    with pytest.raises(ClientError) as raised:
        sagemaker.create_model(**request)
    code, status = error_of(raised)
    assert status == 400
    return code, raised.value.response["Error"]["Message"]


def test_a_model_is_created_described_tagged_and_deleted(sqlite_server, sagemaker, role):
    name = unique_name("Xgb-Model")
    arn = sagemaker.create_model(
        ModelName=name,
        PrimaryContainer=_xgboost(Environment={"SAGEMAKER_CONTAINER_LOG_LEVEL": "20"}, ContainerHostname="ignored"),
        ExecutionRoleArn=role,
        EnableNetworkIsolation=True,
        VpcConfig={"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
        Tags=[{"Key": "team", "Value": "search"}],
    )["ModelArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{_account(sqlite_server)}:model/{name.lower()}"

    model = sagemaker.describe_model(ModelName=name)
    assert model["ModelName"] == name and model["ModelArn"] == arn
    assert model["PrimaryContainer"] == {
        "Image": XGBOOST_IMAGE,
        "Mode": "SingleModel",
        "ModelDataUrl": MODEL_DATA,
        "Environment": {"SAGEMAKER_CONTAINER_LOG_LEVEL": "20"},
        "ContainerHostname": "ignored",
    }
    assert "Containers" not in model and "InferenceExecutionConfig" not in model
    assert model["ExecutionRoleArn"] == role
    assert model["EnableNetworkIsolation"] is True
    assert model["VpcConfig"]["Subnets"] == ["subnet-0123456789abcdef0"]
    assert abs(model["CreationTime"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "search"}]

    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "beta"}])
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "beta"}]

    sagemaker.delete_model(ModelName=name)
    with pytest.raises(ClientError) as gone:
        sagemaker.describe_model(ModelName=name)
    assert error_of(gone) == ("ValidationException", 400)
    assert gone.value.response["Error"]["Message"] == f'Could not find model "{arn}".'
    with pytest.raises(ClientError) as untagged:
        sagemaker.list_tags(ResourceArn=arn)
    assert error_of(untagged) == ("ValidationException", 400)

    sagemaker.create_model(ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=role)
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []  # the deleted model's tags went with it
    assert sagemaker.describe_model(ModelName=name)["EnableNetworkIsolation"] is False


def test_containers_of_a_direct_pipeline_are_kept_in_order(sagemaker, role):
    name = unique_name("pipeline")
    containers = [
        {
            "ContainerHostname": "features",
            "Image": SKLEARN_IMAGE,
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://code/src.tar.gz"},
            "ModelDataSource": {"S3DataSource": {"S3Uri": "s3://models/features/", "S3DataType": "S3Prefix", "CompressionType": "None"}},
        },
        {"ContainerHostname": "predictor", **_xgboost(Mode="SingleModel")},
    ]
    sagemaker.create_model(
        ModelName=name, Containers=containers, InferenceExecutionConfig={"Mode": "Direct"}, ExecutionRoleArn=role
    )

    model = sagemaker.describe_model(ModelName=name)
    assert model["Containers"] == [
        {"Mode": "SingleModel", **containers[0]},
        {"Environment": {}, **containers[1]},
    ]
    assert model["InferenceExecutionConfig"] == {"Mode": "Direct"}
    assert "PrimaryContainer" not in model


def test_a_model_without_s3_data_needs_no_role(sagemaker):
    name = unique_name("norole")
    sagemaker.create_model(ModelName=name, PrimaryContainer={"Image": SKLEARN_IMAGE})
    model = sagemaker.describe_model(ModelName=name)
    assert "ExecutionRoleArn" not in model
    assert model["PrimaryContainer"] == {"Image": SKLEARN_IMAGE, "Mode": "SingleModel", "Environment": {}}


def _s3_source(uri: str, data_type: str, compression: str) -> dict[str, Any]:
    return {"S3DataSource": {"S3Uri": uri, "S3DataType": data_type, "CompressionType": compression}}


#: Requests CreateModel refuses (role and name filled in by the test): the request, the code, a message fragment.
_REFUSED = {
    "both containers": (
        {"PrimaryContainer": _xgboost(), "Containers": [_xgboost()]},
        "ValidationException",
        "exactly one of PrimaryContainer and Containers",
    ),
    "no container": ({}, "ValidationException", "exactly one of PrimaryContainer and Containers"),
    "empty containers": ({"Containers": []}, "ValidationException", "exactly one of PrimaryContainer and Containers"),
    "too many containers": ({"Containers": [_xgboost()] * 16}, "ValidationException", "length less than or equal to 15"),
    "no image": ({"PrimaryContainer": {"ModelDataUrl": MODEL_DATA}}, "ValidationException", "Image is required"),
    "unknown image": (
        {"PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1"}},
        "ValidationException",
        "'123456789012.dkr.ecr.us-east-1.amazonaws.com/my-server:1' is neither",
    ),
    "unavailable algorithm": (
        {"PrimaryContainer": {"Image": "382416733822.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1", "ModelDataUrl": MODEL_DATA}},
        "ValidationException",
        "blazingtext is not available on Shipyard",
    ),
    "builtin without model data": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE}},
        "ValidationException",
        "needs the model's artifacts: give ModelDataUrl",
    ),
    "https model data": (
        {"PrimaryContainer": _xgboost(ModelDataUrl="https://example.com/model.tar.gz")},
        "ValidationException",
        "ModelDataUrl must be an S3 URI",
    ),
    "model data twice": (
        {"PrimaryContainer": _xgboost(ModelDataSource=_s3_source("s3://models/a/", "S3Prefix", "None"))},
        "ValidationException",
        "either ModelDataUrl or ModelDataSource, not both",
    ),
    "https source": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataSource": _s3_source("https://example.com/m/", "S3Prefix", "None")}},
        "ValidationException",
        "ModelDataSource.S3DataSource.S3Uri must be an S3 URI",
    ),
    "gzip prefix": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataSource": _s3_source("s3://models/a/", "S3Prefix", "Gzip")}},
        "ValidationException",
        "CompressionType Gzip needs S3DataType S3Object",
    ),
    "prefix without slash": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataSource": _s3_source("s3://models/a", "S3Prefix", "None")}},
        "ValidationException",
        "must end with a slash",
    ),
    "uncompressed object": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataSource": _s3_source("s3://models/a/m.bin", "S3Object", "None")}},
        "ValidationException",
        "S3DataType S3Object with CompressionType None) is not supported",
    ),
    "bad compression": (
        {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataSource": _s3_source("s3://models/a.tar.gz", "S3Object", "Zip")}},
        "ValidationException",
        "Member must satisfy enum value set: [None, Gzip]",
    ),
    "multi model": ({"PrimaryContainer": _xgboost(Mode="MultiModel")}, "ValidationException", "Mode MultiModel is not supported"),
    "model package": (
        {"PrimaryContainer": {"ModelPackageName": "my-package/1"}},
        "ValidationException",
        "ModelPackageName is not supported",
    ),
    "additional data": (
        {
            "PrimaryContainer": _xgboost(
                AdditionalModelDataSources=[{"ChannelName": "extra", "S3DataSource": _s3_source("s3://m/x/", "S3Prefix", "None")["S3DataSource"]}]
            )
        },
        "ValidationException",
        "AdditionalModelDataSources is not supported",
    ),
    "direct without hostnames": (
        {"Containers": [_xgboost(), _xgboost()], "InferenceExecutionConfig": {"Mode": "Direct"}},
        "ValidationException",
        "Mode Direct needs a ContainerHostname",
    ),
    "some hostnames": (
        {"Containers": [_xgboost(ContainerHostname="first"), _xgboost()]},
        "ValidationException",
        "ContainerHostname is given for some containers",
    ),
    "same hostnames": (
        {"Containers": [_xgboost(ContainerHostname="same"), _xgboost(ContainerHostname="same")]},
        "ValidationException",
        "ContainerHostname values must be unique: same appears more than once",
    ),
    "bad mode": (
        {"Containers": [_xgboost()], "InferenceExecutionConfig": {"Mode": "Parallel"}},
        "ValidationException",
        "Member must satisfy enum value set: [Serial, Direct]",
    ),
}


@pytest.mark.parametrize("case", sorted(_REFUSED))
def test_create_model_refuses_what_aws_or_shipyard_cannot_host(sagemaker, role, case):
    request, code, fragment = _REFUSED[case]
    answered, message = _refused(sagemaker, ModelName=unique_name("refused"), ExecutionRoleArn=role, **request)
    assert answered == code and fragment in message, message


def test_model_data_in_s3_needs_a_role_that_sagemaker_may_assume(sqlite_server, sagemaker):
    name = unique_name("roles")
    code, message = _refused(sagemaker, ModelName=name, PrimaryContainer=_xgboost())
    assert code == "ValidationException" and "ExecutionRoleArn is required" in message
    script = {"Image": SKLEARN_IMAGE, "Environment": {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://code/src.tar.gz"}}
    code, message = _refused(sagemaker, ModelName=name, PrimaryContainer=script)
    assert code == "ValidationException" and "ExecutionRoleArn is required" in message

    missing = f"arn:aws:iam::{_account(sqlite_server)}:role/{unique_name('nobody')}"
    code, message = _refused(sagemaker, ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=missing)
    assert code == "ValidationException" and message.startswith(f"Could not assume role {missing}")
    iam = sqlite_server.client("iam")
    untrusting = iam.create_role(RoleName=unique_name("ec2"), AssumeRolePolicyDocument=trust_text("ec2.amazonaws.com"))["Role"]["Arn"]
    code, message = _refused(sagemaker, ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=untrusting)
    assert code == "ValidationException" and "allows principal 'sagemaker.amazonaws.com'" in message
    with pytest.raises(ClientError):
        sagemaker.describe_model(ModelName=name)


def test_names_are_unique_and_valid(sqlite_server, sagemaker, role):
    name = unique_name("dup")
    sagemaker.create_model(ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=role)
    arn = f"arn:aws:sagemaker:us-east-1:{_account(sqlite_server)}:model/{name.lower()}"
    assert _refused(sagemaker, ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=role) == (
        "ValidationException",
        f'Cannot create already existing model "{arn}".',
    )
    code, message = _refused(sagemaker, ModelName="bad_name", PrimaryContainer=_xgboost(), ExecutionRoleArn=role)
    assert code == "ValidationException" and "at 'modelName' failed to satisfy constraint" in message


def test_describe_and_delete_of_a_missing_model(sqlite_server, sagemaker):
    name = unique_name("Missing")
    arn = f"arn:aws:sagemaker:us-east-1:{_account(sqlite_server)}:model/{name.lower()}"
    for call in (sagemaker.describe_model, sagemaker.delete_model):
        with pytest.raises(ClientError) as raised:
            call(ModelName=name)
        assert error_of(raised) == ("ValidationException", 400)
        assert raised.value.response["Error"]["Message"] == f'Could not find model "{arn}".'


def test_list_models_filters_sorts_and_pages(sagemaker, role):
    prefix = unique_name("listed")
    names = [f"{prefix}-{letter}" for letter in "cabed"]
    for name in names:
        sagemaker.create_model(ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=role)

    newest_first = sagemaker.list_models(NameContains=prefix)["Models"]
    assert [model["ModelName"] for model in newest_first] == names[::-1]
    assert set(newest_first[0]) == {"ModelName", "ModelArn", "CreationTime"}

    seen, token, pages = [], None, 0
    while True:
        page = sagemaker.list_models(
            NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=2, **({"NextToken": token} if token else {})
        )
        seen += [model["ModelName"] for model in page["Models"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == sorted(names) and pages == 3

    paginated = sagemaker.get_paginator("list_models").paginate(NameContains=prefix, SortBy="Name", SortOrder="Descending", PaginationConfig={"PageSize": 3})
    assert [model["ModelName"] for page in paginated for model in page["Models"]] == sorted(names, reverse=True)

    third = newest_first[2]["CreationTime"]
    after = sagemaker.list_models(NameContains=prefix, CreationTimeAfter=third - dt.timedelta(milliseconds=1))["Models"]
    assert {model["ModelName"] for model in after} >= set(names[2:])
    assert sagemaker.list_models(NameContains=prefix, CreationTimeBefore=newest_first[-1]["CreationTime"])["Models"] == []

    with pytest.raises(ClientError) as bad_token:
        sagemaker.list_models(NextToken="not-a-token")
    assert error_of(bad_token) == ("ValidationException", 400)
    with pytest.raises(ClientError) as bad_sort:
        sagemaker.list_models(SortBy="Status")
    assert error_of(bad_sort) == ("ValidationException", 400)


def test_a_local_image_must_have_a_serve_executable(sqlite_server, sagemaker, tmp_path):
    image = tmp_path / "image"
    image.mkdir()
    train = image / "train"
    train.write_text("#!/bin/sh\n")
    train.chmod(train.stat().st_mode | stat.S_IXUSR)
    name = unique_name("local-image")
    added = subprocess.run(
        [sys.executable, "-m", "shipyard", "images", "add", name, str(image), "--data-dir", str(sqlite_server.data_dir)],
        env=sqlite_server.client_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    code, message = _refused(sagemaker, ModelName=unique_name("local"), PrimaryContainer={"Image": name})
    assert code == "ValidationException" and "has no executable 'serve'" in message

    serve = image / "serve"
    serve.write_text("#!/bin/sh\n")
    serve.chmod(serve.stat().st_mode | stat.S_IXUSR)
    model = unique_name("local")
    sagemaker.create_model(ModelName=model, PrimaryContainer={"Image": name})
    assert sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["Image"] == name


def test_the_aws_cli_describes_a_model(sqlite_server, sagemaker, role):
    name = unique_name("cli")
    sagemaker.create_model(ModelName=name, PrimaryContainer=_xgboost(), ExecutionRoleArn=role)
    described = subprocess.run(
        [str(AWS), "sagemaker", "describe-model", "--model-name", name, "--output", "json"],
        env=sqlite_server.client_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert described.returncode == 0, described.stderr.decode(errors="replace")
    model = json.loads(described.stdout)
    assert model["ModelName"] == name and model["PrimaryContainer"]["ModelDataUrl"] == MODEL_DATA


def test_models_on_postgresql(postgresql_server):
    sagemaker = postgresql_server.client("sagemaker")
    role = sagemaker_role(postgresql_server)
    prefix = unique_name("pg")
    for letter in "ba":
        sagemaker.create_model(
            ModelName=f"{prefix}-{letter}", PrimaryContainer=_xgboost(), ExecutionRoleArn=role, Tags=[{"Key": "k", "Value": letter}]
        )
    listed = sagemaker.list_models(NameContains=prefix, SortBy="Name", SortOrder="Ascending")["Models"]
    assert [model["ModelName"] for model in listed] == [f"{prefix}-a", f"{prefix}-b"]
    assert sagemaker.list_tags(ResourceArn=listed[0]["ModelArn"])["Tags"] == [{"Key": "k", "Value": "a"}]
    with pytest.raises(ClientError) as duplicate:
        sagemaker.create_model(ModelName=f"{prefix}-a", PrimaryContainer=_xgboost(), ExecutionRoleArn=role)
    assert "Cannot create already existing model" in duplicate.value.response["Error"]["Message"]
    sagemaker.delete_model(ModelName=f"{prefix}-a")
    assert [model["ModelName"] for model in sagemaker.list_models(NameContains=prefix)["Models"]] == [f"{prefix}-b"]
