"""Monitoring: CloudWatch-style metrics of what the server runs and what clients put, alarms
on them, and Model Monitor.

Samples are summarized per metric and minute, with a percentile sketch
(:mod:`~shipyard.monitoring.histogram`), in memory
(:class:`~shipyard.monitoring.buffer.MetricBuffer`) or straight from ``PutMetricData``,
merged into table ``metric_data`` (:class:`~shipyard.monitoring.metric_store.MetricStore`),
and read back as CloudWatch's statistics (:mod:`~shipyard.monitoring.statistics`) and metric
math (:mod:`~shipyard.monitoring.expressions`) through the CloudWatch API. Old minutes are
downsampled by :mod:`~shipyard.monitoring.retention`. :mod:`~shipyard.monitoring.usage`
publishes hosts' CPU and memory, :mod:`~shipyard.monitoring.alarms` evaluates alarms, and
Model Monitor is its analyzer (:mod:`~shipyard.monitoring.analyzer`) and its schedules
(:mod:`~shipyard.monitoring.schedules`).

The package imports nothing itself: the analyzer runs inside processing jobs, which should
not pay for the server's database layer.
"""
