"""Request parameters as the audit trail keeps them: secrets hidden, bodies left out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipyard.audit import HIDDEN, describe, redact
from shipyard.aws.models import service_model


def _input(service: str, operation: str):
    return service_model(service).operation_model(operation).input_shape


def test_secret_names_are_hidden_in_any_service_and_at_any_depth() -> None:
    params = {
        "UserName": "alice",
        "Password": "hunter2",
        "Nested": {"SecretAccessKey": "abc", "session_token": "t", "Keep": 1},
        "List": [{"PrivateKey": "k"}, {"x-amz-security-token": "tok"}],
    }
    assert redact(params) == {
        "UserName": "alice",
        "Password": HIDDEN,
        "Nested": {"SecretAccessKey": HIDDEN, "session_token": HIDDEN, "Keep": 1},
        "List": [{"PrivateKey": HIDDEN}, {"x-amz-security-token": HIDDEN}],
    }


def test_members_the_model_marks_sensitive_are_hidden() -> None:
    shape = _input("sts", "AssumeRoleWithWebIdentity")
    params = {
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "RoleSessionName": "s",
        "WebIdentityToken": "jwt",
    }
    assert redact(params, shape) == {**params, "WebIdentityToken": HIDDEN}
    shape = _input("s3", "GetObject")
    params = {
        "Bucket": "b",
        "Key": "k",
        "SSECustomerKey": "c2VjcmV0",
        "SSECustomerAlgorithm": "AES256",
    }
    assert redact(params, shape) == {**params, "SSECustomerKey": HIDDEN}


def test_bodies_are_never_recorded() -> None:
    shape = _input("s3", "PutObject")
    params = {
        "Bucket": "b",
        "Key": "k",
        "Body": object(),
        "ContentLength": 3,
        "Metadata": {"a": "1"},
    }
    assert redact(params, shape) == {
        "Bucket": "b",
        "Key": "k",
        "ContentLength": 3,
        "Metadata": {"a": "1"},
    }
    shape = _input("s3", "UploadPart")
    assert "Body" not in redact(
        {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "Body": b"x"},
        shape,
    )


def test_values_become_json_ready() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    shape = _input("s3", "PutObject")
    assert redact(
        {"Bucket": "b", "Key": "k", "Expires": moment, "Other": object()}, shape
    ) == {
        "Bucket": "b",
        "Key": "k",
        "Expires": "2025-01-02T03:04:05+00:00",
    }


@pytest.mark.parametrize(
    ("arn", "type_", "name"),
    [
        ("arn:aws:s3:::datasets", "AWS::S3::Bucket", "datasets"),
        (
            "arn:aws:s3:::datasets/a/b.csv",
            "AWS::S3::Object",
            "arn:aws:s3:::datasets/a/b.csv",
        ),
        ("arn:aws:iam::123456789012:user/team/alice", "AWS::IAM::User", "alice"),
        (
            "arn:aws:iam::123456789012:policy/p",
            "AWS::IAM::Policy",
            "arn:aws:iam::123456789012:policy/p",
        ),
        (
            "arn:aws:sagemaker:eu-west-1:123456789012:training-job/j",
            "AWS::SageMaker::TrainingJob",
            "arn:aws:sagemaker:eu-west-1:123456789012:training-job/j",
        ),
        (
            "arn:aws:sts::123456789012:federated-user/x",
            None,
            "arn:aws:sts::123456789012:federated-user/x",
        ),
    ],
)
def test_resources_as_lookup_events_lists_them(
    arn: str, type_: str | None, name: str
) -> None:
    resource = describe(arn)
    assert (resource.type, resource.name, resource.arn) == (type_, name, arn)
