"""CloudWatch metrics in each wire protocol CloudWatch's model lists (json 1.0, query,
smithy-rpc-v2-cbor) through botocore's own serializers, the AWS CLI, and data kept across
a crash and downsampled at start."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.errors import error_of
from shipyard.testing.protocols import client_speaking


def minute(offset: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=20 - offset)


@pytest.mark.parametrize("protocol", ["json", "query", "smithy-rpc-v2-cbor"])
def test_put_and_read_back_in_each_protocol(sqlite_server: RunningServer, protocol: str) -> None:
    cloudwatch = client_speaking(sqlite_server, "cloudwatch", protocol)
    sent: list[tuple[bytes, bytes]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append((request.headers.get("Content-Type", b""), request.headers.get("Content-Encoding", b"")))

    cloudwatch.meta.events.register("before-send", record)
    ns = f"Proto/{uuid.uuid4().hex[:8]}"
    dimensions = [{"Name": "Protocol", "Value": protocol}]
    # Over 10 KB: botocore gzips the body (requestcompression).
    values = [v / 7 for v in range(1, 151)]
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Size", "Dimensions": dimensions, "Timestamp": minute(n), "Values": values, "Unit": "Bytes"}
            for n in range(10)
        ],
    )
    query = {"Namespace": ns, "MetricName": "Size", "Dimensions": dimensions, "StartTime": minute(0), "EndTime": minute(10), "Period": 600}
    (point,) = cloudwatch.get_metric_statistics(**query, Statistics=["SampleCount", "Sum", "Maximum"])["Datapoints"]
    assert (point["SampleCount"], point["Sum"], point["Maximum"], point["Unit"]) == (1500, pytest.approx(10 * sum(values)), 150 / 7, "Bytes")
    assert point["Timestamp"] == minute(0)
    (point,) = cloudwatch.get_metric_statistics(**query, ExtendedStatistics=["p50"])["Datapoints"]
    assert point["ExtendedStatistics"]["p50"] == pytest.approx(75 / 7, rel=0.01)

    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "s", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Size", "Dimensions": dimensions}, "Period": 300, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "kb", "Expression": "s / 1024", "Label": "KiB"},
        ],
        StartTime=minute(0),
        EndTime=minute(10),
        ScanBy="TimestampAscending",
    )
    (result,) = data["MetricDataResults"]
    assert (result["Id"], result["Label"], result["StatusCode"]) == ("kb", "KiB", "Complete")
    assert result["Timestamps"] == [minute(0), minute(5)]
    assert result["Values"] == [pytest.approx(5 * sum(values) / 1024)] * 2

    listed = cloudwatch.list_metrics(Namespace=ns, Dimensions=[{"Name": "Protocol"}])["Metrics"]
    assert listed == [{"Namespace": ns, "MetricName": "Size", "Dimensions": dimensions}]

    with pytest.raises(ClientError) as excinfo:
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=[{"MetricName": "CPU", "Value": 1.0}])
    assert error_of(excinfo) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "e", "Expression": "x +"}], StartTime=minute(0), EndTime=minute(1)
        )
    assert error_of(excinfo) == ("ValidationError", 400)

    expected = {"json": b"application/x-amz-json-1.0", "query": b"application/x-www-form-urlencoded; charset=utf-8", "smithy-rpc-v2-cbor": b"application/cbor"}
    assert all(expected[protocol] in content_type for content_type, _ in sent)
    assert sent[0][1] == b"gzip"  # the first PutMetricData


def test_aws_cli_puts_metric_data(sqlite_server: RunningServer) -> None:
    ns = f"Cli/{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "awscli", "--endpoint-url", sqlite_server.endpoint_url, "cloudwatch"]
    env = sqlite_server.client_env()
    subprocess.run(
        [*command, "put-metric-data", "--namespace", ns, "--metric-name", "Orders", "--value", "7", "--unit", "Count", "--dimensions", "Shop=north"],
        env=env,
        check=True,
        capture_output=True,
    )
    listed = subprocess.run(
        [*command, "list-metrics", "--namespace", ns, "--output", "json"], env=env, check=True, capture_output=True, text=True
    )
    assert json.loads(listed.stdout)["Metrics"] == [
        {"Namespace": ns, "MetricName": "Orders", "Dimensions": [{"Name": "Shop", "Value": "north"}]}
    ]
    refused = subprocess.run(
        [*command, "put-metric-data", "--namespace", "AWS/Shop", "--metric-name", "Orders", "--value", "1"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "InvalidParameterValue" in refused.stderr


def test_acknowledged_data_survives_a_crash_and_is_downsampled_at_start(tmp_path) -> None:
    # Minutes older than ~8.6 s are downsampled: the pass at start moves what was put.
    settings = {"SHIPYARD_METRICS_RETENTION_DAYS": "0.0001"}
    with start_server(tmp_path, extra_env=settings) as server:
        cloudwatch = server.client("cloudwatch")
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
        start -= timedelta(minutes=start.minute % 5)
        cloudwatch.put_metric_data(
            Namespace="Crash",
            MetricData=[{"MetricName": "Orders", "Timestamp": start + timedelta(minutes=n), "Values": [float(n), 100.0]} for n in range(10)],
        )
        server.restart(kill=True)
        cloudwatch = server.client("cloudwatch")
        query = {"Namespace": "Crash", "MetricName": "Orders", "StartTime": start, "EndTime": start + timedelta(minutes=10), "Period": 60}
        points = cloudwatch.get_metric_statistics(**query, Statistics=["SampleCount", "Sum", "Minimum"])["Datapoints"]
        # Two 5-minute rows, each answered at its own start even for a 60 s period.
        assert [(p["Timestamp"], p["SampleCount"], p["Sum"]) for p in points] == [
            (start, 10, 10 + 500),
            (start + timedelta(minutes=5), 10, 35 + 500),
        ]
        assert points[1]["Minimum"] == 5
        percentiles = cloudwatch.get_metric_statistics(**query, ExtendedStatistics=["p100"])["Datapoints"]
        assert percentiles[1]["ExtendedStatistics"] == {"p100": 100.0}
        assert cloudwatch.list_metrics(Namespace="Crash")["Metrics"][0]["MetricName"] == "Orders"
