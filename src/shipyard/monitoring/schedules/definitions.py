"""Job definitions in one form: MonitoringJobDefinition's (what CreateMonitoringSchedule
takes inline), whether they came inline or from a data or model quality job definition.

A model quality definition keeps two members MonitoringJobDefinition lacks:
``GroundTruthS3Input`` and ``ProblemType``; its ``MonitoringType`` says which it is.
"""

from __future__ import annotations

from typing import Any

from shipyard.monitoring.schedules.records import DATA_QUALITY, MODEL_QUALITY

#: The definition kind's prefix of its Create*JobDefinition members.
_PREFIXES = {DATA_QUALITY: "DataQuality", MODEL_QUALITY: "ModelQuality"}

#: The members of an AppSpecification that MonitoringAppSpecification has.
_APP_MEMBERS = ("ImageUri", "ContainerEntrypoint", "ContainerArguments", "RecordPreprocessorSourceUri", "PostAnalyticsProcessorSourceUri")


def from_job_definition(kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """A stored Create{DataQuality,ModelQuality}JobDefinition request as a MonitoringJobDefinition."""
    prefix = _PREFIXES[kind]
    app = request[f"{prefix}AppSpecification"]
    job_input = request[f"{prefix}JobInput"]
    definition: dict[str, Any] = {
        "MonitoringType": prefix,
        "BaselineConfig": request.get(f"{prefix}BaselineConfig"),
        "MonitoringInputs": [{key: value} for key, value in job_input.items() if key in ("EndpointInput", "BatchTransformInput")],
        "MonitoringOutputConfig": request[f"{prefix}JobOutputConfig"],
        "MonitoringResources": request["JobResources"],
        "MonitoringAppSpecification": {key: app[key] for key in _APP_MEMBERS if key in app},
        "StoppingCondition": request.get("StoppingCondition"),
        "Environment": app.get("Environment"),
        "NetworkConfig": request.get("NetworkConfig"),
        "RoleArn": request["RoleArn"],
        "GroundTruthS3Input": job_input.get("GroundTruthS3Input"),
        "ProblemType": app.get("ProblemType"),
    }
    return {key: value for key, value in definition.items() if value is not None}


def inline(definition: dict[str, Any]) -> dict[str, Any]:
    """An inline MonitoringJobDefinition (always data quality) in the same form."""
    return {**definition, "MonitoringType": "DataQuality"}


def endpoint_input(definition: dict[str, Any]) -> dict[str, Any] | None:
    """The definition's ``EndpointInput``, or None (batch transform input)."""
    for item in definition.get("MonitoringInputs") or []:
        if "EndpointInput" in item:
            return item["EndpointInput"]
    return None
