"""Endpoint configurations through boto3: create, describe, list, delete, tags and every refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of
from shipyard.testing.identities import unique_name

XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
CAPTURE = {
    "InitialSamplingPercentage": 50,
    "DestinationS3Uri": "s3://capture/endpoints",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
}


@pytest.fixture(scope="module")
def sagemaker(sqlite_server: RunningServer) -> Any:
    """A client that leaves every check to the server (boto3 would check minimums itself)."""
    return sqlite_server.client("sagemaker", parameter_validation=False)


@pytest.fixture(scope="module")
def account(sqlite_server: RunningServer) -> str:
    return sqlite_server.client("sts").get_caller_identity()["Account"]


@pytest.fixture(scope="module")
def model(sagemaker: Any, algorithm_role: str) -> str:
    """The name of a model the module's configs serve."""
    name = unique_name("config-model")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://models/xgb/model.tar.gz"},
        ExecutionRoleArn=algorithm_role,
    )
    return name


def _variant(model: str, name: str = "AllTraffic", **extra: Any) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1, **extra}


def _serverless(model: str, name: str = "Serverless", **config: Any) -> dict[str, Any]:
    return {"VariantName": name, "ModelName": model, "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5, **config}}


def test_a_config_is_created_described_tagged_and_deleted(sagemaker, model, account, algorithm_role):
    name = unique_name("Two-Variants")
    variants = [
        _variant(model, "Blue", InitialVariantWeight=3.0, ModelDataDownloadTimeoutInSeconds=600, VolumeSizeInGB=4),
        _variant(model, "Green", ContainerStartupHealthCheckTimeoutInSeconds=120),
        _serverless(model),
    ]
    arn = sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=variants,
        DataCaptureConfig=CAPTURE,
        KmsKeyId="alias/endpoints",
        ExecutionRoleArn=algorithm_role,
        EnableNetworkIsolation=True,
        Tags=[{"Key": "team", "Value": "search"}],
    )["EndpointConfigArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{account}:endpoint-config/{name.lower()}"

    config = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert config["EndpointConfigName"] == name and config["EndpointConfigArn"] == arn
    assert config["ProductionVariants"] == [
        variants[0],
        {**variants[1], "InitialVariantWeight": 1.0},
        {**variants[2], "InitialVariantWeight": 1.0},
    ]
    assert config["DataCaptureConfig"] == {"EnableCapture": True, **CAPTURE}
    assert config["KmsKeyId"] == "alias/endpoints"
    assert config["ExecutionRoleArn"] == algorithm_role and config["EnableNetworkIsolation"] is True
    assert abs(config["CreationTime"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "search"}]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "beta"}])
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "beta"}]

    sagemaker.delete_endpoint_config(EndpointConfigName=name)
    for call in (sagemaker.describe_endpoint_config, sagemaker.delete_endpoint_config):
        with pytest.raises(ClientError) as gone:
            call(EndpointConfigName=name)
        assert error_of(gone) == ("ValidationException", 400)
        assert gone.value.response["Error"]["Message"] == f'Could not find endpoint configuration "{arn}".'
    with pytest.raises(ClientError) as untagged:
        sagemaker.list_tags(ResourceArn=arn)
    assert error_of(untagged) == ("ValidationException", 400)


def test_capture_that_is_switched_off_is_kept_off(sagemaker, model):
    name = unique_name("no-capture")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[_variant(model)], DataCaptureConfig={**CAPTURE, "EnableCapture": False}
    )
    config = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert config["DataCaptureConfig"]["EnableCapture"] is False
    assert "KmsKeyId" not in config and "ExecutionRoleArn" not in config


def test_a_config_outlives_the_model_it_names(sagemaker, algorithm_role):
    model = unique_name("short-lived")
    sagemaker.create_model(
        ModelName=model,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": "s3://models/xgb/model.tar.gz"},
        ExecutionRoleArn=algorithm_role,
    )
    name = unique_name("outlives")
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[_variant(model)])
    sagemaker.delete_model(ModelName=model)
    assert sagemaker.describe_endpoint_config(EndpointConfigName=name)["ProductionVariants"][0]["ModelName"] == model


#: ProductionVariants CreateEndpointConfig refuses (given the module's model): variants, code, message fragment.
_REFUSED_VARIANTS = {
    "no variants": (lambda model: [], "ValidationException", "length greater than or equal to 1"),
    "eleven variants": (
        lambda model: [_variant(model, f"v{index}") for index in range(11)],
        "ValidationException",
        "length less than or equal to 10",
    ),
    "same variant names": (
        lambda model: [_variant(model, "twin"), _variant(model, "twin")],
        "ValidationException",
        "Variant names must be unique: twin appears more than once",
    ),
    "no model name": (
        lambda model: [{"VariantName": "v", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
        "ValidationException",
        "Production variant v needs a ModelName",
    ),
    "instance type and serverless": (
        lambda model: [{**_variant(model), "ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}],
        "ValidationException",
        "either InstanceType (with InitialInstanceCount) or ServerlessConfig, not both nor neither",
    ),
    "neither instance type nor serverless": (
        lambda model: [{"VariantName": "v", "ModelName": model}],
        "ValidationException",
        "either InstanceType (with InitialInstanceCount) or ServerlessConfig",
    ),
    "no instance count": (
        lambda model: [{"VariantName": "v", "ModelName": model, "InstanceType": "ml.m5.large"}],
        "ValidationException",
        "needs an InitialInstanceCount",
    ),
    "zero instances": (lambda model: [_variant(model, InitialInstanceCount=0)], "ValidationException", "greater than or equal to 1"),
    "unknown instance type": (
        lambda model: [_variant(model, InstanceType="ml.m5.huge")],
        "ValidationException",
        "Member must satisfy enum value set",
    ),
    "more than the server has": (
        lambda model: [_variant(model, InstanceType="ml.p3.16xlarge")],
        "ResourceLimitExceeded",
        "ml.p3.16xlarge needs",
    ),
    "negative weight": (
        lambda model: [_variant(model, InitialVariantWeight=-1.0)],
        "ValidationException",
        "greater than or equal to 0",
    ),
    "short download timeout": (
        lambda model: [_variant(model, ModelDataDownloadTimeoutInSeconds=30)],
        "ValidationException",
        "greater than or equal to 60",
    ),
    "odd serverless memory": (
        lambda model: [_serverless(model, MemorySizeInMB=1500)],
        "ValidationException",
        "MemorySizeInMB must be 1024, 2048",
    ),
    "too much serverless memory": (
        lambda model: [_serverless(model, MemorySizeInMB=7168)],
        "ValidationException",
        "less than or equal to 6144",
    ),
    "too much concurrency": (
        lambda model: [_serverless(model, MaxConcurrency=201)],
        "ValidationException",
        "less than or equal to 200",
    ),
    "provisioned above maximum": (
        lambda model: [_serverless(model, MaxConcurrency=2, ProvisionedConcurrency=3)],
        "ValidationException",
        "ProvisionedConcurrency cannot exceed MaxConcurrency",
    ),
}


@pytest.mark.parametrize("case", sorted(_REFUSED_VARIANTS))
def test_create_refuses_variants_that_cannot_be_served(sagemaker, model, case):
    variants, code, fragment = _REFUSED_VARIANTS[case]
    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint_config(EndpointConfigName=unique_name("refused"), ProductionVariants=variants(model))
    assert error_of(raised) == (code, 400)
    assert fragment in raised.value.response["Error"]["Message"]


#: Other members CreateEndpointConfig refuses: the member's value, code, message fragment.
_REFUSED_MEMBERS = {
    "https capture": (
        {"DataCaptureConfig": {**CAPTURE, "DestinationS3Uri": "https://example.com/capture"}},
        "ValidationException",
        "DestinationS3Uri must be an S3 URI",
    ),
    "capture mode twice": (
        {"DataCaptureConfig": {**CAPTURE, "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Input"}]}},
        "ValidationException",
        "CaptureOptions modes must be unique: Input appears more than once",
    ),
    "no capture options": ({"DataCaptureConfig": {**CAPTURE, "CaptureOptions": []}}, "ValidationException", "length greater than or equal to 1"),
    "sampling above 100": (
        {"DataCaptureConfig": {**CAPTURE, "InitialSamplingPercentage": 101}},
        "ValidationException",
        "less than or equal to 100",
    ),
    "async inference": (
        {"AsyncInferenceConfig": {"OutputConfig": {"S3OutputPath": "s3://async/out"}}},
        "ValidationException",
        "AsyncInferenceConfig is not supported by Shipyard",
    ),
    "shadow variants": (
        {"ShadowProductionVariants": [{"VariantName": "shadow", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}]},
        "ValidationException",
        "ShadowProductionVariants is not supported by Shipyard",
    ),
    "explainer": (
        {"ExplainerConfig": {"ClarifyExplainerConfig": {"ShapConfig": {"ShapBaselineConfig": {"ShapBaseline": "1,2"}}}}},
        "ValidationException",
        "ExplainerConfig is not supported by Shipyard",
    ),
    "bad name": ({"EndpointConfigName": "bad_name"}, "ValidationException", "at 'endpointConfigName' failed to satisfy constraint"),
}


@pytest.mark.parametrize("case", sorted(_REFUSED_MEMBERS))
def test_create_refuses_what_aws_or_shipyard_does_not_accept(sagemaker, model, case):
    members, code, fragment = _REFUSED_MEMBERS[case]
    request = {"EndpointConfigName": unique_name("refused"), "ProductionVariants": [_variant(model)], **members}
    with pytest.raises(ClientError) as raised:
        sagemaker.create_endpoint_config(**request)
    assert error_of(raised) == (code, 400)
    assert fragment in raised.value.response["Error"]["Message"]


def test_create_needs_existing_models_roles_and_a_free_name(sqlite_server, sagemaker, model, account):
    missing = unique_name("No-Such-Model")
    with pytest.raises(ClientError) as no_model:
        sagemaker.create_endpoint_config(EndpointConfigName=unique_name("orphan"), ProductionVariants=[_variant(model, "a"), _variant(missing, "b")])
    assert error_of(no_model) == ("ValidationException", 400)
    assert no_model.value.response["Error"]["Message"] == f'Could not find model "arn:aws:sagemaker:us-east-1:{account}:model/{missing.lower()}".'

    nobody = f"arn:aws:iam::{account}:role/{unique_name('nobody')}"
    with pytest.raises(ClientError) as no_role:
        sagemaker.create_endpoint_config(EndpointConfigName=unique_name("roleless"), ProductionVariants=[_variant(model)], ExecutionRoleArn=nobody)
    assert error_of(no_role) == ("ValidationException", 400)
    assert no_role.value.response["Error"]["Message"].startswith(f"Could not assume role {nobody}")

    name = unique_name("taken")
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[_variant(model)])
    with pytest.raises(ClientError) as taken:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[_variant(model)])
    assert error_of(taken) == ("ValidationException", 400)
    arn = f"arn:aws:sagemaker:us-east-1:{account}:endpoint-config/{name}"
    assert taken.value.response["Error"]["Message"] == f'Cannot create already existing endpoint configuration "{arn}".'


def test_list_endpoint_configs_filters_sorts_and_pages(sagemaker, model):
    prefix = unique_name("listed")
    names = [f"{prefix}-{letter}" for letter in "bdac"]
    for name in names:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[_variant(model)])

    newest_first = sagemaker.list_endpoint_configs(NameContains=prefix)["EndpointConfigs"]
    assert [config["EndpointConfigName"] for config in newest_first] == names[::-1]
    assert set(newest_first[0]) == {"EndpointConfigName", "EndpointConfigArn", "CreationTime"}

    first = sagemaker.list_endpoint_configs(NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=3)
    rest = sagemaker.list_endpoint_configs(
        NameContains=prefix, SortBy="Name", SortOrder="Ascending", MaxResults=3, NextToken=first["NextToken"]
    )
    assert [config["EndpointConfigName"] for config in first["EndpointConfigs"] + rest["EndpointConfigs"]] == sorted(names)
    assert "NextToken" not in rest

    oldest = newest_first[-1]["CreationTime"]
    assert sagemaker.list_endpoint_configs(NameContains=prefix, CreationTimeBefore=oldest)["EndpointConfigs"] == []
    assert len(sagemaker.list_endpoint_configs(NameContains=prefix, CreationTimeAfter=oldest - dt.timedelta(seconds=1))["EndpointConfigs"]) == 4

    with pytest.raises(ClientError) as mismatched:
        sagemaker.list_endpoint_configs(NameContains=prefix, SortBy="CreationTime", NextToken=first["NextToken"])
    assert error_of(mismatched) == ("ValidationException", 400)
    assert "Invalid pagination token" in mismatched.value.response["Error"]["Message"]
