"""Model Monitor's analyzer: what SageMaker's ``sagemaker-model-monitor-analyzer`` image does.

A processing job with that image runs ``python -m shipyard.monitoring.analyzer <ml root>``.
It follows the analyzer's container contract: settings come from the environment
(``dataset_format``, ``dataset_source``, ``output_path``, ``baseline_statistics``,
``baseline_constraints``, ``analysis_type``...), results go to ``output_path``:

- a baseline (no baseline files given) writes ``statistics.json`` and the suggested
  ``constraints.json``;
- an execution (baseline files given) writes ``statistics.json`` and
  ``constraint_violations.json``;

and, as every run, ``/opt/ml/output/message`` (the job's ExitMessage) and, when
``publish_cloudwatch_metrics`` is ``Enabled``, CloudWatch metric lines under
``/opt/ml/output/metrics/cloudwatch/``. The code runs inside the job's process, so it
depends on numpy, pandas, scipy and scikit-learn only, never on the server.
"""
