"""Monitoring: CloudWatch-style metrics of what the server runs and what clients put.

Samples are summarized per metric and minute, with a percentile sketch
(:mod:`~shipyard.monitoring.histogram`), in memory (:class:`MetricBuffer`) or straight from
``PutMetricData``, merged into table ``metric_data`` (:class:`MetricStore`), and read back
as CloudWatch's statistics (:mod:`~shipyard.monitoring.statistics`) and metric math
(:mod:`~shipyard.monitoring.expressions`) through the CloudWatch API. Old minutes are
downsampled by :mod:`~shipyard.monitoring.retention`.
"""

from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.histogram import Sketch
from shipyard.monitoring.metric_store import (
    MINUTE_MS,
    Aggregate,
    Dimensions,
    MetricDatum,
    MetricKey,
    MetricStore,
    canonical,
)
from shipyard.monitoring.statistics import (
    STATISTICS,
    Datapoint,
    aligned_start,
    datapoints,
    is_statistic,
)

__all__ = [
    "MINUTE_MS",
    "STATISTICS",
    "Aggregate",
    "Datapoint",
    "Dimensions",
    "MetricBuffer",
    "MetricDatum",
    "MetricKey",
    "MetricStore",
    "Sketch",
    "aligned_start",
    "canonical",
    "datapoints",
    "is_statistic",
]
