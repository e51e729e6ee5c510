"""json 1.0 / 1.1 (SageMaker, Logs, CloudWatch, KMS) against botocore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError
from botocore.serialize import create_serializer
from starlette.datastructures import Headers
from test_protocols_harness import (
    REQUEST_ID,
    client,
    client_call,
    parse_request,
    respond,
    wire_request,
    without_metadata,
)

from shipyard.aws.models import operation_model, service_model
from shipyard.aws.protocols import codec_for, codec_for_request
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

SAGEMAKER = service_model("sagemaker")
CODEC = codec_for(SAGEMAKER)
WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)
WHEN_MS = datetime(2026, 11, 23, 10, 0, 1, 250000, tzinfo=UTC)

TRAINING_JOB = {
    "TrainingJobName": "xgb-1",
    "HyperParameters": {"max_depth": "5", "eta": "0.2", "sagemaker_program": '"train.py"'},
    "AlgorithmSpecification": {
        "TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "validation:auc", "Regex": r"validation-auc:([0-9\.]+)"}],
        "EnableSageMakerMetricsTimeSeries": True,
    },
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://b/train/",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ContentType": "text/csv",
        }
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://b/output/"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "EnableNetworkIsolation": False,
    "Environment": {"A": "1"},
    "Tags": [{"Key": "team", "Value": "ml"}],
    "DebugHookConfig": {"S3OutputPath": "s3://b/debug/", "CollectionConfigurations": []},
}

REQUESTS = [
    ("sagemaker", "CreateTrainingJob", TRAINING_JOB),
    ("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "xgb-1"}),
    (
        "sagemaker",
        "ListTrainingJobs",
        {"CreationTimeAfter": WHEN, "MaxResults": 10, "SortBy": "CreationTime"},
    ),
    (
        "logs",
        "PutLogEvents",
        {
            "logGroupName": "/aws/sagemaker/TrainingJobs",
            "logStreamName": "xgb-1/algo-1",
            "logEvents": [{"timestamp": 1763892000000, "message": "[0]#011train-auc:0.9"}],
        },
    ),
    (
        "logs",
        "GetLogEvents",
        {"logGroupName": "g", "logStreamName": "s", "startFromHead": True, "limit": 100},
    ),
    (
        "logs",
        "DescribeLogStreams",
        {"logGroupName": "g", "logStreamNamePrefix": "xgb-1/", "descending": False},
    ),
    (
        "cloudwatch",
        "PutMetricData",
        {
            "Namespace": "ns",
            "MetricData": [
                {
                    "MetricName": "m",
                    "Dimensions": [{"Name": "d", "Value": "v"}],
                    "Timestamp": WHEN_MS,
                    "Values": [1.5, 2.0],
                    "Counts": [1.0, 3.0],
                    "Unit": "Count",
                }
            ],
        },
    ),
    (
        "kms",
        "Encrypt",
        {"KeyId": "alias/k", "Plaintext": b"\x00\x01secret\xff", "EncryptionContext": {"a": "b"}},
    ),
    (
        "cloudtrail",
        "LookupEvents",
        {
            "StartTime": WHEN,
            "EndTime": WHEN_MS,
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "x"}],
        },
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params"), REQUESTS, ids=[f"{s}.{o}" for s, o, _ in REQUESTS]
)
def test_boto3_requests_parse_back(service: str, operation: str, params: dict[str, Any]) -> None:
    resolved, parsed = parse_request(service, operation, params)
    assert resolved.name == operation
    assert parsed == params


def test_timestamps_come_back_as_utc_datetimes() -> None:
    _, parsed = parse_request("sagemaker", "ListTrainingJobs", {"CreationTimeAfter": WHEN_MS})
    assert parsed["CreationTimeAfter"] == WHEN_MS
    assert parsed["CreationTimeAfter"].tzinfo is UTC


def _json_request(target: str, body: bytes, service: str = "sagemaker") -> WireRequest:
    headers = Headers({"x-amz-target": target, "content-type": "application/x-amz-json-1.1"})
    return WireRequest("POST", "/", "/", [], headers, body)


@pytest.mark.parametrize(
    "target", ["SageMaker.Nope", "Logs_20140328.ListTrainingJobs", "ListTrainingJobs", ""]
)
def test_unknown_operation(target: str) -> None:
    with pytest.raises(AwsError) as caught:
        CODEC.resolve_operation(SAGEMAKER, _json_request(target, b"{}"))
    assert (caught.value.code, caught.value.status) == ("UnknownOperationException", 400)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'{"NameContains": 5}',
        b'{"MaxResults": "ten"}',
        b'{"MaxResults": true}',
        b'{"CreationTimeAfter": "yesterday"}',
    ],
)
def test_bad_bodies_are_serialization_exceptions(body: bytes) -> None:
    operation = operation_model("sagemaker", "ListTrainingJobs")
    with pytest.raises(AwsError) as caught:
        CODEC.parse(operation, _json_request("SageMaker.ListTrainingJobs", body), {})
    assert (caught.value.code, caught.value.status) == ("SerializationException", 400)


def test_empty_body_and_unknown_members_are_tolerated() -> None:
    operation = operation_model("sagemaker", "ListTrainingJobs")
    assert CODEC.parse(operation, _json_request("SageMaker.ListTrainingJobs", b""), {}) == {}
    assert (
        CODEC.parse(
            operation, _json_request("SageMaker.ListTrainingJobs", b'{"Nope": 1, "MaxResults": null}'), {}
        )
        == {}
    )


# -- responses ----------------------------------------------------------------------

DESCRIBED = {
    "TrainingJobName": "xgb-1",
    "TrainingJobArn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/xgb-1",
    "ModelArtifacts": {"S3ModelArtifacts": "s3://b/output/xgb-1/output/model.tar.gz"},
    "TrainingJobStatus": "Completed",
    "SecondaryStatus": "Completed",
    "HyperParameters": {"max_depth": "5"},
    "AlgorithmSpecification": {"TrainingImage": "xgboost", "TrainingInputMode": "File"},
    "RoleArn": "arn:aws:iam::123456789012:role/r",
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    "CreationTime": WHEN,
    "TrainingStartTime": WHEN_MS,
    "TrainingEndTime": WHEN_MS,
    "LastModifiedTime": WHEN_MS,
    "SecondaryStatusTransitions": [
        {
            "Status": "Starting",
            "StartTime": WHEN,
            "EndTime": WHEN_MS,
            "StatusMessage": "Preparing the instances",
        },
        {"Status": "Completed", "StartTime": WHEN_MS, "StatusMessage": "Training job completed"},
    ],
    "FinalMetricDataList": [{"MetricName": "validation:auc", "Value": 0.875, "Timestamp": WHEN}],
    "EnableNetworkIsolation": False,
    "TrainingTimeInSeconds": 1,
    "BillableTimeInSeconds": 1,
}

ANSWERS = [
    ("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "xgb-1"}, DESCRIBED),
    ("sagemaker", "CreateTrainingJob", TRAINING_JOB, {"TrainingJobArn": DESCRIBED["TrainingJobArn"]}),
    ("sagemaker", "DeleteModel", {"ModelName": "m"}, {}),
    (
        "logs",
        "GetLogEvents",
        {"logGroupName": "g", "logStreamName": "s"},
        {
            "events": [{"timestamp": 1763892000000, "message": "hi", "ingestionTime": 1763892000001}],
            "nextForwardToken": "f/1",
        },
    ),
    (
        "cloudwatch",
        "GetMetricData",
        {
            "MetricDataQueries": [
                {
                    "Id": "q",
                    "MetricStat": {
                        "Metric": {"Namespace": "n", "MetricName": "m"},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            "StartTime": WHEN,
            "EndTime": WHEN,
        },
        {
            "MetricDataResults": [
                {
                    "Id": "q",
                    "Label": "m",
                    "Timestamps": [WHEN, WHEN_MS],
                    "Values": [1.0, 2.5],
                    "StatusCode": "Complete",
                }
            ]
        },
    ),
    (
        "kms",
        "Encrypt",
        {"KeyId": "k", "Plaintext": b"x"},
        {"CiphertextBlob": b"\x00\xffcipher", "KeyId": "arn:k", "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"},
    ),
]


@pytest.mark.parametrize(
    ("service", "operation", "params", "output"), ANSWERS, ids=[f"{s}.{o}" for s, o, _, _ in ANSWERS]
)
def test_answers_read_back_by_boto3(
    service: str, operation: str, params: dict[str, Any], output: dict[str, Any]
) -> None:
    response = respond(service, operation, output)
    version = service_model(service).metadata["jsonVersion"]
    assert response.header("Content-Type") == f"application/x-amz-json-{version}"
    parsed = client_call(service, operation, params, response)
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert without_metadata(parsed) == output


def test_timestamps_are_epoch_seconds_with_milliseconds() -> None:
    body = json.loads(respond("sagemaker", "DescribeTrainingJob", DESCRIBED).body)  # type: ignore[arg-type]
    assert body["CreationTime"] == 1795428000
    assert body["TrainingStartTime"] == 1795428001.25


def test_naive_datetimes_and_unknown_keys_in_outputs() -> None:
    output = {
        "TrainingJobName": "j",
        "CreationTime": datetime(2026, 11, 23, 10, 0, 0),
        "NotAMember": 1,
        "ModelArtifacts": None,
    }
    body = json.loads(respond("sagemaker", "DescribeTrainingJob", output).body)  # type: ignore[arg-type]
    assert body == {"TrainingJobName": "j", "CreationTime": 1795428000}


# -- cloudwatch: one model, several protocols -----------------------------------------


def test_cloudwatch_is_json_for_boto3_and_query_for_a_form() -> None:
    cloudwatch = service_model("cloudwatch")
    assert cloudwatch.metadata["protocols"][0] == "smithy-rpc-v2-cbor"
    assert codec_for(cloudwatch).name == "json"
    request = wire_request("cloudwatch", "ListMetrics", {"Namespace": "n"})
    assert codec_for_request(cloudwatch, request).name == "json"

    params = {"Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 2.0, "Timestamp": WHEN}]}
    operation = operation_model("cloudwatch", "PutMetricData")
    serialized = create_serializer("query").serialize_to_request(params, operation)
    form = WireRequest(
        "POST", "/", "/", [], Headers(serialized["headers"]), urlencode(serialized["body"]).encode()
    )
    codec = codec_for_request(cloudwatch, form)
    assert codec.name == "query"
    resolved, path_params = codec.resolve_operation(cloudwatch, form)
    assert resolved.name == "PutMetricData"
    assert codec.parse(resolved, form, path_params) == params


def test_query_compatible_errors_map_to_the_modelled_exception() -> None:
    cloudwatch = service_model("cloudwatch")
    error = AwsError("InvalidParameterValue", "bad period", 400)
    response = codec_for(cloudwatch).serialize_error(cloudwatch, None, error, REQUEST_ID)
    assert response.header("x-amzn-query-error") == "InvalidParameterValue;Sender"
    assert json.loads(response.body)["__type"] == "InvalidParameterValueException"  # type: ignore[arg-type]
    with pytest.raises(client("cloudwatch").exceptions.InvalidParameterValueException) as caught:
        client_call("cloudwatch", "ListMetrics", {}, response)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert caught.value.response["Error"]["Message"] == "bad period"


# -- errors -------------------------------------------------------------------------


def test_error_body_and_modelled_exception() -> None:
    error = AwsError("ResourceNotFound", "Could not find training job xgb-9", 400)
    response = CODEC.serialize_error(
        SAGEMAKER, operation_model("sagemaker", "DescribeTrainingJob"), error, REQUEST_ID
    )
    # The modelled shape spells its member "Message"; botocore reads either spelling.
    assert json.loads(response.body) == {
        "__type": "ResourceNotFound",
        "Message": "Could not find training job xgb-9",
    }  # type: ignore[arg-type]
    assert response.header("x-amzn-ErrorType") == "ResourceNotFound"
    assert response.header("x-amzn-RequestId") == REQUEST_ID
    with pytest.raises(client("sagemaker").exceptions.ResourceNotFound) as caught:
        client_call("sagemaker", "DescribeTrainingJob", {"TrainingJobName": "xgb-9"}, response)
    assert caught.value.response["Error"]["Message"] == "Could not find training job xgb-9"
    assert caught.value.response["ResponseMetadata"]["RequestId"] == REQUEST_ID


def test_unmodelled_error_and_fields() -> None:
    error = AwsError("ValidationException", "1 validation error", 400, fields={"Reason": "x"})
    response = CODEC.serialize_error(SAGEMAKER, None, error, REQUEST_ID)
    with pytest.raises(ClientError) as caught:
        client_call("sagemaker", "ListTrainingJobs", {}, response)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert json.loads(response.body)["Reason"] == "x"  # type: ignore[arg-type]


def test_logs_resource_not_found() -> None:
    logs = service_model("logs")
    error = AwsError("ResourceNotFoundException", "The specified log group does not exist.", 400)
    response = codec_for(logs).serialize_error(logs, None, error, REQUEST_ID)
    with pytest.raises(client("logs").exceptions.ResourceNotFoundException):
        client_call("logs", "GetLogEvents", {"logGroupName": "g", "logStreamName": "s"}, response)
