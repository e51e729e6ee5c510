"""Request members are checked against the model's constraints, in AWS's words."""

from __future__ import annotations

import botocore.session
import pytest

from shipyard.aws.validation import _compiled, validate_input
from shipyard.errors import AwsError

SERVICES = ("iam", "sts", "cloudtrail", "sagemaker", "sagemaker-runtime", "logs", "cloudwatch")


def _operation(service: str, name: str):
    return botocore.session.get_session().get_service_model(service).operation_model(name)


def _message(service: str, operation: str, params: dict) -> tuple[str, str]:
    with pytest.raises(AwsError) as excinfo:
        validate_input(_operation(service, operation), params)
    assert excinfo.value.status == 400
    return excinfo.value.code, excinfo.value.message


def test_valid_input_passes() -> None:
    validate_input(
        _operation("sts", "AssumeRole"),
        {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "ok-name", "DurationSeconds": 900},
    )


def test_a_pattern_violation_names_the_member_and_the_pattern() -> None:
    code, message = _message(
        "sts", "AssumeRole", {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "has space"}
    )
    assert code == "ValidationError"
    assert message == (
        "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )


def test_every_violation_is_listed() -> None:
    _code, message = _message("sts", "AssumeRole", {"RoleArn": "short", "RoleSessionName": "x", "DurationSeconds": 60})
    assert message.startswith("3 validation errors detected: ")
    assert (
        "Value 'short' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"
        in message
    )
    assert (
        "Value 60 at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        in message
    )


def test_missing_required_members_and_enums() -> None:
    code, message = _message("iam", "UpdateAccessKey", {"AccessKeyId": "AKIAEXAMPLEEXAMPLE12", "Status": "Paused"})
    assert code == "ValidationError"
    assert (
        "Value 'Paused' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive, Expired]"
        in message
    )
    code, message = _message("iam", "CreateUser", {})
    assert (
        message
        == "1 validation error detected: Value null at 'userName' failed to satisfy constraint: Member must not be null"
    )


def test_nested_members_are_named_by_their_path() -> None:
    tags = [{"Key": "ok", "Value": "v"}, {"Key": "bad#key", "Value": "v"}]
    _, message = _message("iam", "CreateUser", {"UserName": "u", "Tags": tags})
    assert "at 'tags.2.member.key'" in message


def test_json_services_answer_validation_exception() -> None:
    code, _ = _message("cloudtrail", "LookupEvents", {"MaxResults": 0})
    assert code == "ValidationException"


def test_java_patterns_translate() -> None:
    unicode_tag = _compiled(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+")
    assert unicode_tag.fullmatch("Équipe 7") and not unicode_tag.fullmatch("a#b")
    arn = _compiled(r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+")
    assert arn.fullmatch("arn:aws:iam::123456789012:role/\U0001f600") and not arn.fullmatch("bell\x07")


@pytest.mark.parametrize("service", SERVICES)
def test_every_pattern_of_the_served_models_compiles(service: str) -> None:
    model = botocore.session.get_session().get_service_model(service)
    patterns = {model.shape_for(name).metadata.get("pattern") for name in model.shape_names} - {None}
    assert patterns
    for pattern in patterns:
        _compiled(pattern)
