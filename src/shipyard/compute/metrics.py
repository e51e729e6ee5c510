"""Training metrics from log lines, with the job's ``MetricDefinitions`` regexes.

As on SageMaker, each definition's regex is searched in every line the job prints; its
first group (or, without groups, the whole match) is the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

from shipyard.errors import AwsError


class MetricParser:
    """Turns log lines into ``(metric name, value)`` points."""

    def __init__(self, definitions: Sequence[dict[str, Any]]) -> None:
        self._patterns = [(item["Name"], compile_metric_regex(item["Name"], item["Regex"])) for item in definitions]

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def parse(self, lines: Iterable[str]) -> list[tuple[str, float]]:
        """Every metric value found in ``lines``, in order."""
        points = []
        for line in lines:
            for name, pattern in self._patterns:
                match = pattern.search(line)
                if match is None:
                    continue
                text = match.group(1) if pattern.groups else match.group(0)
                try:
                    value = float(text)
                except (TypeError, ValueError):
                    continue
                if math.isfinite(value):
                    points.append((name, value))
        return points


def compile_metric_regex(name: str, pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled; a ValidationException naming the metric when it is no regex."""
    try:
        return re.compile(pattern)
    except re.error as error:
        raise AwsError(
            "ValidationException", f"Invalid regular expression for metric {name!r}: {pattern!r} ({error})"
        ) from error
