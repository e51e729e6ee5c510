"""The CloudWatch metrics a monitoring execution's analyzer wrote, into the metric store.

The analyzer (or a user's own container) writes them as SageMaker's bring-your-own-container
contract has it: JSON lines in ``/opt/ml/output/metrics/cloudwatch/*.jsonl``, one metric a
line with ``MetricName``, ``Timestamp`` (ISO 8601 as in SageMaker's documentation, or epoch
seconds), ``Dimensions``, a ``Value`` or a ``StatisticValues`` set, an optional ``Unit`` and
an optional ``Namespace`` (by default the data-quality one). The server reads them from the
finished job's host directory.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from shipyard.aws.protocols.values import to_datetime
from shipyard.jobs.spec import OPT_ML
from shipyard.monitoring.analyzer.outputs import DATA_NAMESPACE
from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    MetricDatum,
    MetricKey,
)

log = logging.getLogger("shipyard.monitoring")

#: Where the analyzer's metric files are, under a job host's ``/opt/ml``.
METRICS_DIR = Path("output", "metrics", "cloudwatch")


def read_metrics(host_dir: Path, region: str) -> list[MetricDatum]:
    """Every well-formed metric line under ``host_dir``'s ``/opt/ml``, as minute aggregates
    (a malformed line is logged and skipped)."""
    data: list[MetricDatum] = []
    for path in sorted((host_dir / OPT_ML / METRICS_DIR).glob("*.jsonl")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                data.append(_datum(json.loads(line), region))
            except (ValueError, KeyError, TypeError) as error:
                log.warning("%s line %d: not a CloudWatch metric (%s)", path, number, error)
    return data


def _datum(item: dict, region: str) -> MetricDatum:
    if ("Value" in item) == ("StatisticValues" in item):
        raise ValueError("a line has a Value or StatisticValues, not both")
    if "Value" in item:
        aggregate = Aggregate.of(_finite(item["Value"]))
    else:
        statistics = item["StatisticValues"]
        count, total, minimum, maximum = (
            _finite(statistics[name]) for name in ("SampleCount", "Sum", "Minimum", "Maximum")
        )
        if count <= 0 or minimum > maximum:
            raise ValueError("StatisticValues needs a positive SampleCount and Minimum <= Maximum")
        aggregate = Aggregate.of_statistics(count, total, minimum, maximum)
    dimensions = tuple(sorted((str(pair["Name"]), str(pair["Value"])) for pair in item.get("Dimensions") or ()))
    at_ms = int(to_datetime(item["Timestamp"]).timestamp() * 1000)
    namespace = str(item.get("Namespace") or DATA_NAMESPACE)
    return MetricDatum(
        key=MetricKey(region=region, namespace=namespace, metric_name=str(item["MetricName"]), dimensions=dimensions),
        timestamp_ms=at_ms - at_ms % MINUTE_MS,
        unit=str(item.get("Unit") or "None"),
        aggregate=aggregate,
    )


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"value {value!r} is not a finite number")
    return number
