"""Which service a request is for, and virtual-hosted bucket names."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers

from shipyard.aws.routing import ServiceTable, virtual_host_bucket
from shipyard.aws.wire import WireRequest
from shipyard.errors import AwsError

TABLE = ServiceTable.build(["s3", "iam", "sts", "sagemaker", "sagemaker-runtime", "logs"])


def request(headers: dict[str, str] | None = None, path: str = "/") -> WireRequest:
    return WireRequest("POST", path, path, [], Headers(headers or {}))


@pytest.mark.parametrize(
    ("headers", "signing_name", "expected"),
    [
        ({"x-amz-target": "SageMaker.CreateTrainingJob"}, "sagemaker", "sagemaker"),
        ({}, "sagemaker", "sagemaker-runtime"),
        ({"x-amz-target": "Logs_20140328.GetLogEvents"}, "logs", "logs"),
        ({}, "iam", "iam"),
        ({}, "sts", "sts"),
        ({}, "s3", "s3"),
        ({}, None, "s3"),
    ],
)
def test_identify(headers: dict[str, str], signing_name: str | None, expected: str) -> None:
    assert TABLE.identify(request(headers), signing_name) == expected


def test_unknown_target_and_service() -> None:
    with pytest.raises(AwsError) as excinfo:
        TABLE.identify(request({"x-amz-target": "Nope_2020.Do"}), "nope")
    assert excinfo.value.code == "UnknownOperationException"
    with pytest.raises(AwsError) as excinfo:
        TABLE.identify(request(), "ec2")
    assert excinfo.value.status == 400


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("bucket.localhost:8600", "bucket"),
        ("my.dotted.bucket.localhost", "my.dotted.bucket"),
        ("localhost:8600", None),
        ("127.0.0.1:8600", None),
        ("bucket.example.com", None),
        ("[::1]:8600", None),
    ],
)
def test_virtual_host_bucket(host: str, expected: str | None) -> None:
    assert virtual_host_bucket(host, "localhost") == expected
