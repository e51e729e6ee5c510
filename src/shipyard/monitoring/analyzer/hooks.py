"""The user's scripts Model Monitor runs around its analysis.

- ``record_preprocessor_script``: a Python file defining ``preprocess_handler(inference_record)``,
  called for each captured record; it returns the record's features (a dict of name ->
  value, a list of values, a list of those for several rows, or nothing to skip it).
  ``inference_record`` has ``endpoint_input`` / ``endpoint_output`` (``data``,
  ``encoding``, ``mode``, ``observed_content_type``), ``event_metadata`` (``event_id``,
  ``inference_id``, ``inference_time``) and ``event_version``.
- ``post_analytics_processor_script``: a Python file defining ``postprocess_handler()``,
  called once after the reports are written.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from shipyard.monitoring.analyzer.dataset import (
    INPUT,
    OUTPUT,
    CaptureRecord,
    Row,
    json_rows,
)
from shipyard.monitoring.analyzer.environment import AnalyzerError


def preprocessor(script: Path) -> Callable[[CaptureRecord], list[Row]]:
    """The rows function of the script's ``preprocess_handler``."""
    handler = _function(_load(script, "record_preprocessor"), "preprocess_handler", script)

    def rows(record: CaptureRecord) -> list[Row]:
        try:
            result = handler(_inference_record(record))
        except Exception as error:  # noqa: BLE001 - the user's code: its failure fails the job
            raise AnalyzerError(f"preprocess_handler failed on event {record.event_id}: {error!r}") from None
        if result is None or result == []:
            return []
        if isinstance(result, list) and result and all(isinstance(item, (dict, list)) for item in result):
            return [row for item in result for row in json_rows(item)]
        return json_rows(result)

    return rows


def postprocess(script: Path) -> None:
    """Run the script's ``postprocess_handler()``."""
    handler = _function(_load(script, "post_analytics_processor"), "postprocess_handler", script)
    try:
        handler()
    except Exception as error:  # noqa: BLE001 - the user's code: its failure fails the job
        raise AnalyzerError(f"postprocess_handler failed: {error!r}") from None


def _inference_record(record: CaptureRecord) -> SimpleNamespace:
    def part(name: str) -> SimpleNamespace | None:
        found = record.parts.get(name)
        if found is None:
            return None
        return SimpleNamespace(
            data=found.data, encoding=found.encoding, mode=found.mode, observed_content_type=found.observed_content_type
        )

    metadata = record.raw.get("eventMetadata") or {}
    return SimpleNamespace(
        endpoint_input=part(INPUT),
        endpoint_output=part(OUTPUT),
        event_metadata=SimpleNamespace(
            event_id=record.event_id, inference_id=record.inference_id or None, inference_time=metadata.get("inferenceTime")
        ),
        event_version=record.raw.get("eventVersion"),
    )


def _load(script: Path, name: str) -> ModuleType:
    if not script.is_file():
        raise AnalyzerError(f"The script {script} does not exist.")
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise AnalyzerError(f"The script {script} cannot be loaded as Python.")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - the user's code: its failure fails the job
        raise AnalyzerError(f"The script {script.name} failed to load: {error!r}") from None
    return module


def _function(module: ModuleType, name: str, script: Path) -> Callable[..., Any]:
    handler = getattr(module, name, None)
    if not callable(handler):
        raise AnalyzerError(f"The script {script.name} defines no function {name}.")
    return handler
