"""SageMaker's per-variant invocation metrics (namespace ``AWS/SageMaker``), as CloudWatch has them.

Per invocation that reached a variant: ``Invocations`` (1), ``Invocation4XXErrors`` and
``Invocation5XXErrors`` (1 if the model answered with such a status, else 0),
``InvocationModelErrors`` (1 if the model did not answer 2xx, or not at all, else 0),
``ModelLatency`` (µs the model took, when it answered) and ``OverheadLatency`` (µs the
server added). Dimensions: ``EndpointName`` and ``VariantName``.
"""

from __future__ import annotations

from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import MetricKey

NAMESPACE = "AWS/SageMaker"
COUNT_UNIT = "None"
LATENCY_UNIT = "Microseconds"
COUNTS = ("Invocations", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors")
LATENCIES = ("ModelLatency", "OverheadLatency")


class InvocationMetrics:
    """Records invocations into a :class:`MetricBuffer`, a few microseconds each."""

    def __init__(self, buffer: MetricBuffer) -> None:
        self.buffer = buffer
        self._keys: dict[tuple[str, str, str], tuple[MetricKey, ...]] = {}

    def record(
        self,
        region: str,
        endpoint: str,
        variant: str,
        *,
        status: int | None,
        model_us: float | None,
        overhead_us: float,
        time_ms: int,
    ) -> None:
        """One invocation of ``variant``: the model's HTTP ``status`` (None: it never answered)."""
        keys = self._keys.get((region, endpoint, variant))
        if keys is None:
            dimensions = (("EndpointName", endpoint), ("VariantName", variant))
            keys = self._keys[(region, endpoint, variant)] = tuple(
                MetricKey(region, NAMESPACE, name, dimensions) for name in (*COUNTS, *LATENCIES)
            )
        invocations, client_errors, server_errors, model_errors, model_latency, overhead_latency = keys
        record = self.buffer.record
        record(invocations, 1.0, COUNT_UNIT, time_ms)
        record(client_errors, 1.0 if status is not None and 400 <= status < 500 else 0.0, COUNT_UNIT, time_ms)
        record(server_errors, 1.0 if status is not None and status >= 500 else 0.0, COUNT_UNIT, time_ms)
        record(model_errors, 0.0 if status is not None and 200 <= status < 300 else 1.0, COUNT_UNIT, time_ms)
        if model_us is not None:
            record(model_latency, model_us, LATENCY_UNIT, time_ms)
        record(overhead_latency, overhead_us, LATENCY_UNIT, time_ms)
