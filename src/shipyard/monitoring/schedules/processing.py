"""The processing job of one monitoring execution, as a CreateProcessingJob request.

It runs the definition's image (the Model Monitor analyzer) with the environment of the
analyzer's container contract: the capture data of the window as inputs (one input per
variant and hour folder, below the endpoint input's ``LocalPath``), the baseline's
constraints and statistics, ground truth for model quality, the user's pre- and
post-processor scripts, and its report uploaded to
``{MonitoringOutput S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/hh``, as SageMaker lays it out.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from shipyard.monitoring.schedules.definitions import endpoint_input
from shipyard.monitoring.schedules.windows import Window, iso

#: Where the analyzer finds what it compares with (the paths SageMaker uses).
BASELINE_DIR = "/opt/ml/processing/baseline"
GROUND_TRUTH_DIR = "/opt/ml/processing/groundtruth"
CODE_DIR = "/opt/ml/processing/code"

_CAPTURE_FORMAT = '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}'
_ANALYSIS_TYPES = {"DataQuality": "DATA_QUALITY", "ModelQuality": "MODEL_QUALITY"}


def job_name(scheduled_ms: int) -> str:
    """``model-monitoring-<yyyyMMddHHmm>-<8 hex>``, as SageMaker names an execution's job."""
    stamp = datetime.fromtimestamp(scheduled_ms / 1000, UTC).strftime("%Y%m%d%H%M")
    return f"model-monitoring-{stamp}-{secrets.token_hex(4)}"


def output_uri(definition: dict[str, Any], endpoint: str, schedule: str, scheduled_ms: int) -> str:
    """Where the execution's report goes: ``{S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/hh``."""
    base = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]["S3Uri"].rstrip("/")
    hour = datetime.fromtimestamp(scheduled_ms / 1000, UTC).strftime("%Y/%m/%d/%H")
    return f"{base}/{endpoint}/{schedule}/{hour}"


def processing_request(
    *,
    name: str,
    definition: dict[str, Any],
    schedule: str,
    scheduled_ms: int,
    window: Window,
    capture_prefixes: list[str],
    capture_uri: str,
    baseline: dict[str, str],
) -> dict[str, Any]:
    """CreateProcessingJob's request for one execution.

    ``capture_prefixes`` are the capture folders (relative to ``capture_uri``, the capture
    destination with the endpoint appended) that hold data of the window; ``baseline`` maps
    ``constraints`` / ``statistics`` to the S3 URIs of the baseline's files.
    """
    source = endpoint_input(definition) or {}
    endpoint = source.get("EndpointName", "")
    local = source.get("LocalPath") or "/opt/ml/processing/input/endpoint"
    inputs = [
        _input(f"endpoint_input_{index + 1}", f"{capture_uri}/{prefix}/", f"{local}/{endpoint}/{prefix}", source)
        for index, prefix in enumerate(capture_prefixes)
    ]
    environment: dict[str, str] = {
        "dataset_format": _CAPTURE_FORMAT,
        "dataset_source": local,
        "output_path": "",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": endpoint,
        "sagemaker_monitoring_schedule_name": schedule,
        "start_time": iso(window.start_ms),
        "end_time": iso(window.end_ms),
        "metric_time": iso(window.end_ms),
    }
    for kind, uri in sorted(baseline.items()):
        folder = f"{BASELINE_DIR}/{kind}"
        inputs.append(_input(kind, uri, folder, {}))
        environment[f"baseline_{kind}"] = f"{folder}/{_file_name(uri, f'{kind}.json')}"
    app = definition["MonitoringAppSpecification"]
    for member, variable, folder in (
        ("RecordPreprocessorSourceUri", "record_preprocessor_script", "preprocessing"),
        ("PostAnalyticsProcessorSourceUri", "post_analytics_processor_script", "postprocessing"),
    ):
        if app.get(member):
            inputs.append(_input(f"{folder}_script", app[member], f"{CODE_DIR}/{folder}", {}))
            environment[variable] = f"{CODE_DIR}/{folder}/{_file_name(app[member], 'script.py')}"
    monitoring_type = definition.get("MonitoringType", "DataQuality")
    environment["analysis_type"] = _ANALYSIS_TYPES[monitoring_type]
    if monitoring_type == "ModelQuality":
        truth = (definition.get("GroundTruthS3Input") or {}).get("S3Uri")
        if truth:
            inputs.append(_input("groundtruth_input", truth, GROUND_TRUTH_DIR, {}))
            environment["ground_truth_source"] = GROUND_TRUTH_DIR
        environment["problem_type"] = definition.get("ProblemType", "")
        for member, variable in (
            ("InferenceAttribute", "inference_attribute"),
            ("ProbabilityAttribute", "probability_attribute"),
            ("ProbabilityThresholdAttribute", "probability_threshold_attribute"),
        ):
            if source.get(member) is not None:
                environment[variable] = str(source[member])
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    environment["output_path"] = output["LocalPath"]
    environment.update(definition.get("Environment") or {})
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": output_uri(definition, endpoint, schedule, scheduled_ms),
                        "LocalPath": output["LocalPath"],
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {"ClusterConfig": definition["MonitoringResources"]["ClusterConfig"]},
        "StoppingCondition": definition.get("StoppingCondition") or {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": {
            key: app[key] for key in ("ImageUri", "ContainerEntrypoint", "ContainerArguments") if key in app
        },
        "Environment": environment,
        "RoleArn": definition["RoleArn"],
    }
    if definition.get("NetworkConfig"):
        request["NetworkConfig"] = definition["NetworkConfig"]
    return request


def _input(name: str, uri: str, local: str, source: dict[str, Any]) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": source.get("S3DataDistributionType") or "FullyReplicated",
        },
    }


def _file_name(uri: str, default: str) -> str:
    """The object name an S3 URI ends with (``default`` for a folder)."""
    return default if uri.endswith("/") else uri.rsplit("/", 1)[-1]
