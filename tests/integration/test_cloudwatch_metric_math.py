"""CloudWatch metric math functions and operators through boto3 on both backends: FILL and
TIME_SERIES on the request's periods, comparisons, logic and IF, per-series functions, and
the ValidationErrors of bad arguments."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer
from shipyard.testing.errors import error_of


def minute(offset: int = 0) -> datetime:
    """A whole minute ``offset`` minutes from one 30 minutes ago."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return now - timedelta(minutes=30 - offset)


@pytest.fixture
def cloudwatch(server: RunningServer) -> Any:
    return server.client("cloudwatch")


@pytest.fixture
def ns(cloudwatch: Any) -> str:
    """A fresh namespace with two metrics: Sparse at minutes 0, 1 and 3 (10, 20, 40), and
    Dense at minutes 0 to 4 (30, 20, 0, 0, 25)."""
    name = f"Math/{uuid.uuid4().hex[:10]}"
    sparse = {0: 10.0, 1: 20.0, 3: 40.0}
    dense = [30.0, 20.0, 0.0, 0.0, 25.0]
    cloudwatch.put_metric_data(
        Namespace=name,
        MetricData=[{"MetricName": "Sparse", "Timestamp": minute(n), "Value": v} for n, v in sparse.items()]
        + [{"MetricName": "Dense", "Timestamp": minute(n), "Value": v} for n, v in enumerate(dense)],
    )
    return name


def math_results(cloudwatch: Any, ns: str, expressions: dict[str, str], period: int = 60) -> dict[str, dict[str, Any]]:
    """The results of ``expressions`` over minutes 0 to 5, oldest first, by label: an
    expression's Id, or for each series of a list its metric's name. The expressions may
    name the metrics ``sparse`` and ``dense`` (Sum, ``period``)."""
    metrics = [
        {"Id": query_id, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name}, "Period": period, "Stat": "Sum"}, "ReturnData": False}
        for query_id, name in (("sparse", "Sparse"), ("dense", "Dense"))
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=metrics + [{"Id": query_id, "Expression": text} for query_id, text in expressions.items()],
        StartTime=minute(0),
        EndTime=minute(5),
        ScanBy="TimestampAscending",
    )
    return {result["Label"]: result for result in answer["MetricDataResults"]}


def test_fill_and_time_series_cover_every_period_of_the_range(cloudwatch: Any, ns: str) -> None:
    found = math_results(
        cloudwatch,
        ns,
        {
            "zero": "FILL(sparse, 0)",
            "repeat": "FILL(sparse, REPEAT)",
            "linear": "FILL(sparse, LINEAR)",
            "other": "FILL(sparse, dense)",
            "flat": "TIME_SERIES(MAX(sparse))",
            "both": "FILL(METRICS(), -1)",
        },
    )
    every = [minute(n) for n in range(5)]
    assert found["zero"]["Timestamps"] == every
    assert found["zero"]["Values"] == [10.0, 20.0, 0.0, 40.0, 0.0]
    assert found["repeat"]["Values"] == [10.0, 20.0, 20.0, 40.0, 40.0]
    assert found["linear"]["Timestamps"] == every[:4] and found["linear"]["Values"] == [10.0, 20.0, 30.0, 40.0]
    assert found["other"]["Values"] == [10.0, 20.0, 0.0, 40.0, 25.0]
    assert found["flat"]["Timestamps"] == every and found["flat"]["Values"] == [40.0] * 5
    assert found["Sparse"]["Values"] == [10.0, 20.0, -1.0, 40.0, -1.0]
    assert found["Dense"]["Values"] == [30.0, 20.0, 0.0, 0.0, 25.0]


def test_comparisons_logic_and_if(cloudwatch: Any, ns: str) -> None:
    found = math_results(
        cloudwatch,
        ns,
        {
            "less": "dense < sparse",
            "both": "dense > 15 AND sparse > 15",
            "either": "dense == 0 || NOT sparse",
            "low": "IF(dense < 25, dense)",
            "pick": "IF(sparse, sparse, -1)",
            "power": "2 ^ sparse / 1024 - -2^2",
        },
    )
    every = [minute(n) for n in range(5)]
    # A point only one side has counts as 0 on the other.
    assert found["less"]["Timestamps"] == every and found["less"]["Values"] == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert found["both"]["Values"] == [0.0, 1.0, 0.0, 0.0, 0.0]
    assert found["either"]["Values"] == [0.0, 0.0, 1.0, 1.0, 0.0]  # NOT sparse has no point at minute 4
    assert found["low"]["Timestamps"] == every[1:4] and found["low"]["Values"] == [20.0, 0.0, 0.0]
    assert found["pick"]["Values"] == [10.0, 20.0, 40.0]
    assert found["power"]["Values"] == [5.0, 1028.0, 2.0**40 / 1024 + 4]


def test_functions_along_each_series(cloudwatch: Any, ns: str) -> None:
    found = math_results(
        cloudwatch,
        ns,
        {
            "diff": "DIFF(sparse)",
            "gaps": "DIFF_TIME(sparse)",
            "rate": "RATE(sparse)",
            "total": "RUNNING_SUM(dense)",
            "per_second": "dense / PERIOD(dense)",
            "spread": "sparse - sparse + STDDEV(dense) + DATAPOINT_COUNT(sparse)",
            "roots": "SQRT(ABS(dense - 25))",
            "first": "FIRST(REMOVE_EMPTY([sparse, dense]))",
        },
    )
    assert found["diff"]["Timestamps"] == [minute(1), minute(3)] and found["diff"]["Values"] == [10.0, 20.0]
    assert found["gaps"]["Values"] == [60.0, 120.0]
    assert found["rate"]["Values"] == pytest.approx([10 / 60, 20 / 120])
    assert found["total"]["Values"] == [30.0, 50.0, 50.0, 50.0, 75.0]
    assert found["per_second"]["Values"] == pytest.approx([0.5, 1 / 3, 0.0, 0.0, 25 / 60])
    mean = 15.0
    deviation = math.sqrt(sum((v - mean) ** 2 for v in [30, 20, 0, 0, 25]) / 5)
    assert found["spread"]["Values"] == pytest.approx([deviation + 3] * 3)
    assert found["roots"]["Values"] == pytest.approx([math.sqrt(5), math.sqrt(5), 5.0, 5.0, 0.0])
    assert found["first"]["Values"] == [10.0, 20.0, 40.0]


def test_fill_uses_each_series_period(cloudwatch: Any, ns: str) -> None:
    found = math_results(cloudwatch, ns, {"filled": "FILL(sparse, 0)", "flat": "TIME_SERIES(1)"}, period=120)
    # Two-minute periods from minute 0 in minutes 0 to 5: 0, 2 and 4.
    assert found["filled"]["Timestamps"] == [minute(0), minute(2), minute(4)]
    assert found["filled"]["Values"] == [30.0, 40.0, 0.0]
    assert found["flat"]["Values"] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("FILL(sparse)", "Error in expression e1: FILL takes two arguments"),
        ("FILL(sparse, [dense])", "Error in expression e1: FILL takes a time series"),
        ("sparse + REPEAT", "Error in expression e1: REPEAT is only allowed as the second argument of FILL"),
        ("IF(METRICS(), 1)", "Error in expression e1: IF takes a number or a time series"),
        ("FIRST(sparse)", "Error in expression e1: FIRST takes a list of time series"),
        ("PERIOD(sparse * 2)", "Error in expression e1: PERIOD takes the Id of a MetricStat query"),
        ("sparse = 1", "Error in expression e1: Unrecognized token '='"),
        ('SEARCH("{AWS/EC2} CPUUtilization", "Average", 300)', "Error in expression e1: The function SEARCH is not supported"),
        ("ANOMALY_DETECTION_BAND(sparse)", "The function ANOMALY_DETECTION_BAND is not supported"),
        ('SELECT AVG(Sparse) FROM "Math"', "Error in expression e1: Metrics Insights queries"),
    ],
)
def test_bad_function_use_is_a_validation_error(cloudwatch: Any, ns: str, expression: str, message: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        math_results(cloudwatch, ns, {"e1": expression})
    assert error_of(excinfo) == ("ValidationError", 400)
    assert message in excinfo.value.response["Error"]["Message"]
