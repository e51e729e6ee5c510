"""Scalars on the wire, XML helpers and model helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shipyard.aws.models import (
    error_shape,
    operation_model,
    service_model,
    streaming_input_member,
    streaming_output_member,
)
from shipyard.aws.protocols import codec_for, codec_named, xml
from shipyard.aws.protocols.rest import split_header_list
from shipyard.aws.protocols.values import (
    InvalidValue,
    format_timestamp,
    from_text,
    parse_timestamp,
    to_text,
)

WHEN = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("iso8601", WHEN, "2026-11-23T10:00:00.000Z"),
        ("iso8601", WHEN.replace(microsecond=123456), "2026-11-23T10:00:00.123Z"),
        ("rfc822", WHEN, "Mon, 23 Nov 2026 10:00:00 GMT"),
        ("unixTimestamp", WHEN, 1795428000),
        ("unixtimestamp", WHEN.replace(microsecond=250000), 1795428000.25),
        (
            "iso8601",
            datetime(2026, 11, 23, 11, 0, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-23T10:00:00.000Z",
        ),
        ("iso8601", datetime(2026, 11, 23, 10, 0), "2026-11-23T10:00:00.000Z"),
        ("rfc822", 1795428000, "Mon, 23 Nov 2026 10:00:00 GMT"),
        ("unixtimestamp", "2026-11-23T10:00:00Z", 1795428000),
    ],
)
def test_format_timestamp(fmt: str, value: object, expected: object) -> None:
    assert format_timestamp(value, fmt) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T10:00:00Z",
        "2026-11-23T10:00:00.000Z",
        "2026-11-23T11:00:00+01:00",
        "2026-11-23T10:00:00",
        "Mon, 23 Nov 2026 10:00:00 GMT",
        "1795428000",
        "1795428000.0",
        "20261123T100000Z",
    ],
)
def test_parse_timestamp(text: str) -> None:
    parsed = parse_timestamp(text)
    assert parsed == WHEN
    assert parsed.tzinfo is UTC


def test_parse_timestamp_refuses_nonsense() -> None:
    with pytest.raises(InvalidValue):
        parse_timestamp("next tuesday-ish")


def _member(service: str, operation: str, name: str):
    return operation_model(service, operation).input_shape.members[name]


def test_text_forms_of_scalars() -> None:
    max_keys = _member("s3", "ListObjectsV2", "MaxKeys")
    assert from_text(max_keys, "10") == 10
    with pytest.raises(InvalidValue):
        from_text(max_keys, "ten")
    fetch_owner = _member("s3", "ListObjectsV2", "FetchOwner")
    assert from_text(fetch_owner, "TRUE") is True
    assert to_text(fetch_owner, False) == "false"
    with pytest.raises(InvalidValue):
        from_text(fetch_owner, "yes")
    session = _member("lex-runtime", "PostContent", "sessionAttributes")
    assert from_text(session, to_text(session, {"a": [1, "ü"]})) == {"a": [1, "ü"]}
    expires = _member("s3", "PutObject", "Expires")
    assert to_text(expires, WHEN, "rfc822") == "Mon, 23 Nov 2026 10:00:00 GMT"
    content_md5 = _member("s3", "PutObject", "ContentMD5")
    assert from_text(content_md5, "x") == "x"


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("a,b", ["a", "b"]),
        ("a, b ,c", ["a", "b", "c"]),
        ('"a,b",c', ["a,b", "c"]),
        ('"say \\"hi\\"", x', ['say "hi"', "x"]),
        ("", [""]),
    ],
)
def test_split_header_list(text: str, items: list[str]) -> None:
    assert split_header_list(text) == items


def test_xml_escapes_keep_carriage_returns() -> None:
    assert xml.escape('<a & "b">\r\n') == '&lt;a &amp; "b"&gt;&#13;\n'
    assert xml.escape_attribute('"\n') == "&quot;&#10;"
    root = xml.parse_document(("<x>" + xml.escape("a\r\nb") + "</x>").encode())
    assert root.text == "a\r\nb"


def test_models_are_cached_and_describe_streams() -> None:
    assert service_model("s3") is service_model("s3")
    assert streaming_input_member(operation_model("s3", "PutObject")) == "Body"
    assert streaming_input_member(operation_model("s3", "GetObject")) is None
    assert streaming_output_member(operation_model("s3", "GetObject")) == "Body"
    # A blob payload without the streaming trait is read whole.
    assert streaming_input_member(operation_model("sagemaker-runtime", "InvokeEndpoint")) is None
    assert error_shape(service_model("iam"), "NoSuchEntity").name == "NoSuchEntityException"
    assert error_shape(service_model("iam"), "Nope") is None


def test_codec_lookup() -> None:
    assert codec_for(service_model("sts")).name == "query"
    assert codec_for(service_model("s3")).name == "rest-xml"
    assert codec_for(service_model("sagemaker-runtime")).name == "rest-json"
    assert codec_named("smithy-rpc-v2-cbor").name == "smithy-rpc-v2-cbor"
    with pytest.raises(ValueError, match="ec2"):
        codec_named("ec2")
