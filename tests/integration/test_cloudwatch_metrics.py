"""CloudWatch metrics through boto3 (json 1.0) on both backends: PutMetricData, statistics
with percentiles, GetMetricData with metric math and paging, ListMetrics, and the errors."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of


def namespace() -> str:
    return f"Test/{uuid.uuid4().hex[:10]}"


def minute(offset: int = 0) -> datetime:
    """A whole minute ``offset`` minutes from one 30 minutes ago."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=30 - offset)


HOST = [{"Name": "Host", "Value": "web-1"}]


@pytest.fixture
def cloudwatch(server: RunningServer) -> Any:
    return server.client("cloudwatch")


def test_statistics_and_percentiles_match_numpy(cloudwatch: Any) -> None:
    ns, rng = namespace(), np.random.default_rng(11)
    samples = [rng.lognormal(4, 0.8, 150) for _ in range(4)]
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": HOST, "Timestamp": minute(n), "Values": values.tolist(), "Unit": "Milliseconds"}
            for n, values in enumerate(samples)
        ],
    )
    # Values with Counts count each value that often; a single Value is one sample.
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": HOST, "Timestamp": minute(4), "Values": [10.0, 20.0], "Counts": [3, 1], "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": HOST, "Timestamp": minute(4), "Value": 40.0, "Unit": "Milliseconds", "StorageResolution": 1},
        ],
    )
    everything = np.concatenate([*samples, [10.0, 10.0, 10.0, 20.0, 40.0]])
    answer = cloudwatch.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=HOST,
        StartTime=minute(0),
        EndTime=minute(10),
        Period=600,
        Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"],
    )
    (point,) = answer["Datapoints"]
    assert answer["Label"] == "Latency"
    assert point["Timestamp"] == minute(0) and point["Unit"] == "Milliseconds"
    assert point["SampleCount"] == len(everything) == 605
    assert point["Sum"] == pytest.approx(everything.sum())
    assert point["Average"] == pytest.approx(everything.mean())
    assert (point["Minimum"], point["Maximum"]) == (everything.min(), everything.max())

    extended = cloudwatch.get_metric_statistics(
        Namespace=ns,
        MetricName="Latency",
        Dimensions=HOST,
        StartTime=minute(0),
        EndTime=minute(10),
        Period=60,
        ExtendedStatistics=["p50", "p90", "p99", "p99.9", "p100"],
    )["Datapoints"]
    assert [p["Timestamp"] for p in extended] == [minute(n) for n in range(5)]
    first = extended[0]["ExtendedStatistics"]
    for name in ("p50", "p90", "p99", "p99.9"):
        exact = np.percentile(samples[0], float(name[1:]), method="lower")
        assert first[name] == pytest.approx(exact, rel=0.01), name
    assert first["p100"] == samples[0].max()
    assert "SampleCount" not in extended[0]
    assert extended[4]["ExtendedStatistics"]["p50"] == pytest.approx(10.0, rel=0.01)


def test_statistic_sets_have_percentiles_only_when_all_samples_are_equal(cloudwatch: Any) -> None:
    ns = namespace()
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Jobs", "Timestamp": minute(0), "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 1, "Maximum": 9}},
            {"MetricName": "Jobs", "Timestamp": minute(1), "StatisticValues": {"SampleCount": 3, "Sum": 15, "Minimum": 5, "Maximum": 5}},
        ],
    )
    points = cloudwatch.get_metric_statistics(
        Namespace=ns,
        MetricName="Jobs",
        StartTime=minute(0),
        EndTime=minute(2),
        Period=60,
        ExtendedStatistics=["p50"],
    )["Datapoints"]
    assert [p["ExtendedStatistics"] for p in points] == [{}, {"p50": 5.0}]
    assert points[0]["Unit"] == "None"


def put_series(cloudwatch: Any, ns: str, name: str, values: list[float]) -> None:
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": name, "Timestamp": minute(n), "Value": v, "Unit": "Count"} for n, v in enumerate(values)],
    )


def stat(ns: str, name: str, statistic: str = "Sum", period: int = 60) -> dict[str, Any]:
    return {"Metric": {"Namespace": ns, "MetricName": name}, "Period": period, "Stat": statistic}


def test_metric_math_over_aligned_series(cloudwatch: Any) -> None:
    ns = namespace()
    put_series(cloudwatch, ns, "Errors", [1, 2, 3, 4])
    put_series(cloudwatch, ns, "Requests", [10, 20, 30, 40])
    cloudwatch.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Requests", "Timestamp": minute(5), "Value": 50}])
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {"Id": "errors", "MetricStat": stat(ns, "Errors"), "ReturnData": False},
            {"Id": "requests", "MetricStat": stat(ns, "Requests"), "Label": "All requests"},
            {"Id": "rate", "Expression": "100 * errors / requests", "Label": "Error rate"},
            {"Id": "total", "Expression": "SUM([errors, requests])"},
            {"Id": "spread", "Expression": "-(requests - AVG(requests))"},
            {"Id": "every", "Expression": "METRICS() * 2"},
        ],
        StartTime=minute(0),
        EndTime=minute(10),
        ScanBy="TimestampAscending",
    )
    results = {(r["Id"], r["Label"]): r for r in answer["MetricDataResults"]}
    assert list(results) == [
        ("requests", "All requests"),
        ("rate", "Error rate"),
        ("total", "total"),
        ("spread", "spread"),
        ("every", "Errors"),
        ("every", "All requests"),
    ]
    assert results[("rate", "Error rate")]["Values"] == [10.0, 10.0, 10.0, 10.0]
    assert results[("rate", "Error rate")]["Timestamps"] == [minute(n) for n in range(4)]
    assert results[("total", "total")]["Values"] == [11.0, 22.0, 33.0, 44.0, 50.0]
    assert results[("spread", "spread")]["Values"] == [20.0, 10.0, 0.0, -10.0, -20.0]
    assert results[("every", "Errors")]["Values"] == [2.0, 4.0, 6.0, 8.0]
    assert all(r["StatusCode"] == "Complete" for r in answer["MetricDataResults"])

    # Newest first by default; percentiles as Stat.
    latest = cloudwatch.get_metric_data(
        MetricDataQueries=[{"Id": "p", "MetricStat": stat(ns, "Requests", "p90", 300)}],
        StartTime=minute(0),
        EndTime=minute(10),
    )["MetricDataResults"][0]
    assert latest["Timestamps"] == [minute(5), minute(0)]
    assert latest["Values"][1] == pytest.approx(30.0, rel=0.01)  # rank 0.9 * (4 - 1) of 10, 20, 30, 40


def test_extended_statistics_as_stat_match_numpy(cloudwatch: Any) -> None:
    ns, rng = namespace(), np.random.default_rng(12)
    values = np.round(rng.lognormal(4, 0.7, 600), 3)
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Timestamp": minute(0), "Values": chunk.tolist()} for chunk in np.split(values, 4)
        ],
    )
    # A statistic set of unequal samples: no sketch, so no extended statistic for its minute.
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[{"MetricName": "Latency", "Timestamp": minute(1), "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1, "Maximum": 2}}],
    )
    ordered, n = np.sort(values), len(values)
    winsorized = ordered.copy()
    winsorized[int(0.98 * n) :] = ordered[int(0.98 * n)]
    expected = {
        "tm90": ordered[: int(0.9 * n)].mean(),
        "IQM": ordered[n // 4 : 3 * n // 4].mean(),
        "TM(50:150)": values[(values > 50) & (values <= 150)].mean(),
        "wm98": winsorized.mean(),
        "TC(10%:90%)": 0.8 * n,
        "ts90": ordered[: int(0.9 * n)].sum(),
        "PR(:100)": 100 * np.mean(values <= 100),
        "tm100": values.mean(),
    }
    queries = [
        {"Id": f"s{index}", "MetricStat": stat(ns, "Latency", name), "Label": name} for index, name in enumerate(expected)
    ]
    answer = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=minute(0), EndTime=minute(2))
    found = {result["Label"]: result for result in answer["MetricDataResults"]}
    for name, value in expected.items():
        assert found[name]["Timestamps"] == [minute(0)], name
        # Each sample counts at its sketch bucket's value (within 1 %); percentile ranks
        # near the bound may shift by the samples within 1 % of it.
        assert found[name]["Values"][0] == pytest.approx(value, rel=0.01, abs=1.5 if name.startswith("PR") else 0), name
    assert found["tm100"]["Values"] == [pytest.approx(values.mean(), rel=1e-9)]  # the exact sum, untrimmed


def test_max_datapoints_pages_with_next_token(cloudwatch: Any) -> None:
    ns = namespace()
    put_series(cloudwatch, ns, "A", [float(n) for n in range(7)])
    put_series(cloudwatch, ns, "B", [float(10 * n) for n in range(5)])
    request = {
        "MetricDataQueries": [
            {"Id": "a", "MetricStat": stat(ns, "A")},
            {"Id": "b", "MetricStat": stat(ns, "B")},
            {"Id": "c", "Expression": "a + b"},
        ],
        "StartTime": minute(0),
        "EndTime": minute(10),
        "ScanBy": "TimestampAscending",
    }
    pages = list(cloudwatch.get_paginator("get_metric_data").paginate(**request, MaxDatapoints=4))
    assert len(pages) == 5  # 7 + 5 + 5 points, 4 a page
    assert pages[0]["MetricDataResults"][0]["StatusCode"] == "PartialData"
    joined: dict[str, list[float]] = {}
    for page in pages:
        for result in page["MetricDataResults"]:
            joined.setdefault(result["Id"], []).extend(result["Values"])
    assert joined == {"a": [0, 1, 2, 3, 4, 5, 6], "b": [0, 10, 20, 30, 40], "c": [0, 11, 22, 33, 44]}
    assert "NextToken" not in pages[-1]
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(**request, NextToken=pages[0]["NextToken"][:-4] + "AAAA")
    assert error_of(excinfo) == ("InvalidNextToken", 400)


@pytest.mark.parametrize(
    ("queries", "message"),
    [
        ([{"Id": "e1", "Expression": "m1 +* 2"}], "Error in expression e1"),
        ([{"Id": "e1", "Expression": "m9 * 2"}], "Unrecognized metric id m9"),
        ([{"Id": "e1", "Expression": "SUM(m1)"}, {"Id": "m1", "MetricStat": stat("X", "Y")}], "must return a time series"),
        ([{"Id": "e1", "Expression": "e2 + 1"}, {"Id": "e2", "Expression": "e1 + 1"}], "Circular"),
        ([{"Id": "m1", "MetricStat": stat("X", "Y")}, {"Id": "m1", "MetricStat": stat("X", "Z")}], "duplicated"),
        ([{"Id": "Upper", "MetricStat": stat("X", "Y")}], "must start with a lowercase letter"),
        ([{"Id": "m1", "MetricStat": stat("X", "Y"), "Expression": "1"}], "Exactly one of MetricStat and Expression"),
    ],
)
def test_bad_queries_are_validation_errors(cloudwatch: Any, queries: list[dict], message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=minute(0), EndTime=minute(10))
    assert error_of(excinfo) == ("ValidationError", 400)
    assert message in excinfo.value.response["Error"]["Message"]


def test_bad_stat_is_invalid_parameter_value(cloudwatch: Any) -> None:
    for client_call in (
        lambda: cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "m", "MetricStat": stat("X", "Y", "p101")}], StartTime=minute(0), EndTime=minute(1)),
        lambda: cloudwatch.get_metric_data(MetricDataQueries=[{"Id": "m", "MetricStat": stat("X", "Y", "PR(10%:90%)")}], StartTime=minute(0), EndTime=minute(1)),
        lambda: cloudwatch.get_metric_statistics(Namespace="X", MetricName="Y", StartTime=minute(0), EndTime=minute(1), Period=60, ExtendedStatistics=["tm90"]),
        lambda: cloudwatch.get_metric_statistics(Namespace="X", MetricName="Y", StartTime=minute(0), EndTime=minute(1), Period=60, ExtendedStatistics=["p99x"]),
    ):
        with pytest.raises(ClientError) as excinfo:
            client_call()
        assert error_of(excinfo) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize(
    ("datum", "code"),
    [
        ({"Value": 1.0, "Timestamp": datetime.now(UTC) - timedelta(days=15)}, "InvalidParameterValue"),
        ({"Value": 1.0, "Timestamp": datetime.now(UTC) + timedelta(hours=3)}, "InvalidParameterValue"),
        ({"Value": math.nan}, "InvalidParameterValue"),
        ({"Value": math.inf}, "InvalidParameterValue"),
        ({"Values": [1.0, math.nan]}, "InvalidParameterValue"),
        ({"Value": 1.0, "Unit": "Parsecs"}, "InvalidParameterValue"),
        ({"Value": 1.0, "StorageResolution": 5}, "InvalidParameterValue"),
        ({"Values": [1.0, 2.0], "Counts": [1.0]}, "InvalidParameterValue"),
        ({"Values": [1.0] * 151}, "InvalidParameterValue"),
        ({"Value": 1.0, "Dimensions": [{"Name": f"d{n}", "Value": "v"} for n in range(31)]}, "InvalidParameterValue"),
        ({"Value": 1.0, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}, "InvalidParameterCombination"),
        ({"Value": 1.0, "Values": [2.0]}, "InvalidParameterCombination"),
        ({"StatisticValues": {"SampleCount": 2, "Sum": 1, "Minimum": 3, "Maximum": 1}}, "InvalidParameterValue"),
        ({}, "MissingParameter"),
    ],
)
def test_bad_data_is_refused_and_nothing_is_stored(cloudwatch: Any, datum: dict[str, Any], code: str) -> None:
    ns = namespace()
    good = {"MetricName": "Good", "Value": 1.0}
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.put_metric_data(Namespace=ns, MetricData=[good, {"MetricName": "Bad", **datum}])
    assert error_of(excinfo) == (code, 400)
    assert cloudwatch.list_metrics(Namespace=ns)["Metrics"] == []


def test_aws_namespaces_and_oversized_requests_are_refused(cloudwatch: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=[{"MetricName": "Invocations", "Value": 1.0}])
    assert error_of(excinfo) == ("InvalidParameterValue", 400)
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.put_metric_data(Namespace=namespace(), MetricData=[{"MetricName": "m", "Value": 1.0}] * 1001)
    assert error_of(excinfo) == ("InvalidParameterValue", 400)


def test_list_metrics_filters_and_pages(server: RunningServer, cloudwatch: Any) -> None:
    ns = namespace()
    cloudwatch.put_metric_data(
        Namespace=ns,
        MetricData=[
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Zone", "Value": "z1"}], "Value": 1.0},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "b"}], "Value": 1.0},
            {"MetricName": "Errors", "Dimensions": [{"Name": "Host", "Value": "a"}], "Value": 1.0},
            {"MetricName": "Old", "Timestamp": datetime.now(UTC) - timedelta(hours=5), "Value": 1.0},
        ],
    )

    def names(**filters: Any) -> list[tuple[str, list[str]]]:
        listed = cloudwatch.list_metrics(Namespace=ns, **filters)["Metrics"]
        return [(m["MetricName"], [d["Value"] for d in m["Dimensions"]]) for m in listed]

    assert names() == [("Errors", ["a"]), ("Latency", ["a", "z1"]), ("Latency", ["b"]), ("Old", [])]
    assert names(MetricName="Latency", Dimensions=[{"Name": "Host", "Value": "b"}]) == [("Latency", ["b"])]
    assert names(Dimensions=[{"Name": "Host", "Value": "a"}]) == [("Errors", ["a"]), ("Latency", ["a", "z1"])]
    assert names(Dimensions=[{"Name": "Zone"}]) == [("Latency", ["a", "z1"])]
    assert names(Dimensions=[{"Name": "Host"}, {"Name": "Zone", "Value": "z2"}]) == []
    assert [name for name, _ in names(RecentlyActive="PT3H")] == ["Errors", "Latency", "Latency"]
    account = server.client("sts").get_caller_identity()["Account"]
    linked = cloudwatch.list_metrics(Namespace=ns, MetricName="Latency", IncludeLinkedAccounts=True)
    assert linked["OwningAccounts"] == [account, account]
    assert len(cloudwatch.list_metrics(Namespace=ns, OwningAccount=account)["Metrics"]) == 4
    assert cloudwatch.list_metrics(Namespace=ns, OwningAccount="000000000000")["Metrics"] == []
    with pytest.raises(ClientError) as excinfo:
        cloudwatch.list_metrics(Namespace=ns, NextToken="not-a-token")
    assert error_of(excinfo) == ("InvalidParameterValue", 400)

    many = namespace()
    for first in (0, 500):
        cloudwatch.put_metric_data(
            Namespace=many, MetricData=[{"MetricName": f"m{n:04d}", "Value": 1.0} for n in range(first, first + 500)][: 501 - first]
        )
    pages = list(cloudwatch.get_paginator("list_metrics").paginate(Namespace=many))
    assert [len(page["Metrics"]) for page in pages] == [500, 1]
    assert pages[1]["Metrics"][0]["MetricName"] == "m0500"
