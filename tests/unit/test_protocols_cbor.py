"""smithy-rpc-v2-cbor (CloudWatch) against botocore's own CBOR serializer and parser."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from starlette.datastructures import Headers
from test_protocols_harness import REQUEST_ID

from shipyard.aws.models import operation_model, service_model
from shipyard.aws.protocols import codec_for_request
from shipyard.aws.wire import WireRequest, WireResponse
from shipyard.errors import AwsError

CLOUDWATCH = service_model("cloudwatch")
WHEN = datetime(2026, 11, 23, 10, 0, 0, 500000, tzinfo=UTC)


def _request(operation: str, params: dict[str, Any]) -> WireRequest:
    serialized = create_serializer("smithy-rpc-v2-cbor").serialize_to_request(
        params, operation_model("cloudwatch", operation)
    )
    headers = Headers({key.lower(): value for key, value in serialized["headers"].items()})
    path = serialized["url_path"]
    return WireRequest(serialized["method"], path, path, [], headers, serialized["body"])


def _parsed(operation: str, response: WireResponse) -> dict[str, Any]:
    shape = operation_model("cloudwatch", operation).output_shape
    raw = {
        "status_code": response.status,
        "headers": {k.lower(): v for k, v in response.headers},
        "body": response.body,
    }
    return create_parser("smithy-rpc-v2-cbor").parse(raw, shape)


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        (
            "PutMetricData",
            {
                "Namespace": "ns",
                "MetricData": [
                    {
                        "MetricName": "m",
                        "Timestamp": WHEN,
                        "Values": [1.5, 2.0],
                        "Dimensions": [{"Name": "d", "Value": "v"}],
                    }
                ],
            },
        ),
        ("ListMetrics", {"Namespace": "ns", "RecentlyActive": "PT3H"}),
        ("PutDashboard", {"DashboardName": "d", "DashboardBody": "{}"}),
    ],
)
def test_cbor_requests_parse_back(operation: str, params: dict[str, Any]) -> None:
    request = _request(operation, params)
    codec = codec_for_request(CLOUDWATCH, request)
    assert codec.name == "smithy-rpc-v2-cbor"
    resolved, path_params = codec.resolve_operation(CLOUDWATCH, request)
    assert resolved.name == operation
    assert codec.parse(resolved, request, path_params) == params


def test_cbor_answer_reads_back() -> None:
    output = {
        "MetricDataResults": [
            {"Id": "q", "Label": "m", "Timestamps": [WHEN], "Values": [0.25], "StatusCode": "Complete"}
        ],
        "Messages": [],
    }
    request = _request("GetMetricData", {"MetricDataQueries": [], "StartTime": WHEN, "EndTime": WHEN})
    codec = codec_for_request(CLOUDWATCH, request)
    response = codec.serialize(operation_model("cloudwatch", "GetMetricData"), output, REQUEST_ID)
    assert response.header("smithy-protocol") == "rpc-v2-cbor"
    parsed = _parsed("GetMetricData", response)
    assert parsed["ResponseMetadata"]["RequestId"] == REQUEST_ID
    assert {k: v for k, v in parsed.items() if k != "ResponseMetadata"} == output


def test_cbor_error_and_unknown_operation() -> None:
    request = _request("ListMetrics", {})
    codec = codec_for_request(CLOUDWATCH, request)
    response = codec.serialize_error(
        CLOUDWATCH, None, AwsError("ResourceNotFound", "no dashboard", 404), REQUEST_ID
    )
    error = _parsed("ListMetrics", response)["Error"]
    assert (error["Code"], error["Message"]) == ("ResourceNotFound", "no dashboard")
    request.path = request.raw_path = "/service/GraniteServiceVersion20100801/operation/Nope"
    with pytest.raises(AwsError) as caught:
        codec.resolve_operation(CLOUDWATCH, request)
    assert (caught.value.code, caught.value.status) == ("UnknownOperationException", 404)
    request.body = b"\xff\xff"
    with pytest.raises(AwsError, match="CBOR"):
        codec.parse(operation_model("cloudwatch", "ListMetrics"), request, {})
