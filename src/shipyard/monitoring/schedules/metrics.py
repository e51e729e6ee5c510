"""The CloudWatch metrics a monitoring execution's analyzer wrote, into the metric store.

The analyzer writes them as SageMaker's bring-your-own-container contract has it: JSON
lines in ``/opt/ml/output/metrics/cloudwatch/*.jsonl``, one metric value per line
(``Namespace``, ``MetricName``, ``Timestamp`` in epoch seconds, ``Dimensions``, ``Value``,
``Unit``). The server reads them from the finished job's host directory.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from shipyard.jobs.spec import OPT_ML
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
    value = float(item["Value"])
    if not math.isfinite(value):
        raise ValueError(f"value {item['Value']!r} is not a finite number")
    dimensions = tuple(sorted((str(pair["Name"]), str(pair["Value"])) for pair in item.get("Dimensions") or ()))
    at_ms = int(float(item["Timestamp"]) * 1000)
    return MetricDatum(
        key=MetricKey(region=region, namespace=str(item["Namespace"]), metric_name=str(item["MetricName"]), dimensions=dimensions),
        timestamp_ms=at_ms - at_ms % MINUTE_MS,
        unit=str(item.get("Unit") or "None"),
        aggregate=Aggregate.of(value),
    )
