"""The per-variant invocation metrics one InvokeEndpoint records."""

from __future__ import annotations

from shipyard.monitoring.buffer import MetricBuffer
from shipyard.monitoring.metric_store import MINUTE_MS, Aggregate
from shipyard.serving.invocation_metrics import InvocationMetrics

T0 = 1_714_564_800_000


def recorded(*calls: dict) -> dict[str, tuple[str, Aggregate]]:
    metrics = InvocationMetrics(MetricBuffer())
    for call in calls:
        metrics.record("us-east-1", "ep", "a", time_ms=T0, **call)
    drained = metrics.buffer.drain()
    for datum in drained:
        assert datum.key.namespace == "AWS/SageMaker"
        assert datum.key.dimensions == (("EndpointName", "ep"), ("VariantName", "a"))
        assert datum.timestamp_ms == T0 - T0 % MINUTE_MS
    return {datum.key.metric_name: (datum.unit, datum.aggregate) for datum in drained}


def test_a_success_counts_an_invocation_and_both_latencies() -> None:
    found = recorded({"status": 200, "model_us": 900.0, "overhead_us": 100.0})
    assert found == {
        "Invocations": ("None", Aggregate(1, 1.0, 1.0, 1.0)),
        "Invocation4XXErrors": ("None", Aggregate(1, 0.0, 0.0, 0.0)),
        "Invocation5XXErrors": ("None", Aggregate(1, 0.0, 0.0, 0.0)),
        "InvocationModelErrors": ("None", Aggregate(1, 0.0, 0.0, 0.0)),
        "ModelLatency": ("Microseconds", Aggregate(1, 900.0, 900.0, 900.0)),
        "OverheadLatency": ("Microseconds", Aggregate(1, 100.0, 100.0, 100.0)),
    }


def test_errors_are_counted_by_class() -> None:
    found = recorded(
        {"status": 200, "model_us": 1.0, "overhead_us": 1.0},
        {"status": 400, "model_us": 1.0, "overhead_us": 1.0},
        {"status": 503, "model_us": 1.0, "overhead_us": 1.0},
        {"status": None, "model_us": None, "overhead_us": 1.0},
    )
    sums = {name: aggregate.sum for name, (_, aggregate) in found.items()}
    assert sums["Invocations"] == 4
    assert sums["Invocation4XXErrors"] == 1
    assert sums["Invocation5XXErrors"] == 1
    assert sums["InvocationModelErrors"] == 3
    # A model that never answered has no model latency.
    assert found["ModelLatency"][1].sample_count == 3
    assert found["OverheadLatency"][1].sample_count == 4
