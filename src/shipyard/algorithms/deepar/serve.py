"""DeepAR's inference handler, with SageMaker's DeepAR request and response formats.

``application/json`` requests are ``{"instances": [{"start", "target", "cat",
"dynamic_feat"}, ...], "configuration": {"num_samples", "output_types", "quantiles"}}``;
``application/jsonlines`` requests (batch transform) hold one instance per line and take their
configuration from the ``DEEPAR_INFERENCE_CONFIG`` environment variable. Each prediction is
``{"quantiles": {"0.5": [...]}, "samples": [[...], ...], "mean": [...]}`` with the requested
output types, in ``{"predictions": [...]}`` (JSON) or one per line (JSON lines).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from shipyard.algorithms.container import require_torch
from shipyard.algorithms.content_types import JSON, JSONLINES, mime
from shipyard.algorithms.deepar import ALGORITHM, DEFAULT_TEST_QUANTILES
from shipyard.algorithms.deepar.metrics import parse_quantiles, quantiles
from shipyard.algorithms.deepar.series import Series, parse_record
from shipyard.algorithms.errors import (
    AlgorithmError,
    BadRequest,
    UnsupportedContentType,
)
from shipyard.algorithms.inference import negotiate

if TYPE_CHECKING:
    from shipyard.algorithms.deepar.forecaster import Forecaster

TYPES = (JSON, JSONLINES)
OUTPUT_TYPES = ("mean", "quantiles", "samples")
#: The environment variable holding batch transform's configuration.
CONFIG_VARIABLE = "DEEPAR_INFERENCE_CONFIG"


@dataclass(frozen=True)
class Configuration:
    """How to forecast: sample paths to draw, what to return, which quantiles."""

    num_samples: int = 100
    output_types: tuple[str, ...] = ("mean", "quantiles")
    quantiles: tuple[str, ...] = DEFAULT_TEST_QUANTILES

    @classmethod
    def parse(cls, document: Any, defaults: Configuration) -> Configuration:
        """``document``'s settings over ``defaults``; ValueError or TypeError saying what is invalid."""
        if not isinstance(document, Mapping):
            raise TypeError("configuration must be a JSON object")
        num_samples = document.get("num_samples", defaults.num_samples)
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be a positive integer, not {num_samples!r}")
        output_types = tuple(_strings(document.get("output_types", defaults.output_types), "output_types"))
        unknown = [item for item in output_types if item not in OUTPUT_TYPES]
        if unknown:
            raise ValueError(f"output_types {unknown} are not among {', '.join(OUTPUT_TYPES)}")
        levels = tuple(str(item) for item in _strings(document.get("quantiles", defaults.quantiles), "quantiles"))
        parse_quantiles(levels)
        return cls(num_samples, output_types, levels)

    def summarize(self, paths: np.ndarray) -> dict[str, Any]:
        """The prediction of one series from its sample ``paths`` (S, P)."""
        prediction: dict[str, Any] = {}
        if "quantiles" in self.output_types:
            values = quantiles(paths, parse_quantiles(self.quantiles))
            prediction["quantiles"] = {level: row.tolist() for level, row in zip(self.quantiles, values, strict=True)}
        if "samples" in self.output_types:
            prediction["samples"] = paths.tolist()
        if "mean" in self.output_types:
            prediction["mean"] = paths.mean(axis=0).tolist()
        return prediction


def load(model_dir: Path) -> DeepARPredictor:
    """The predictor of a trained DeepAR model (``model.json`` and ``model.npz``)."""
    require_torch(ALGORITHM)
    from shipyard.algorithms.deepar.forecaster import Forecaster

    defaults = Configuration()
    if os.environ.get(CONFIG_VARIABLE):
        try:
            defaults = Configuration.parse(json.loads(os.environ[CONFIG_VARIABLE]), defaults)
        except (ValueError, TypeError) as error:
            raise AlgorithmError(f"{CONFIG_VARIABLE} is invalid: {error}") from None
    return DeepARPredictor(Forecaster.load(Path(model_dir)), defaults)


class DeepARPredictor:
    """Forecasts the series of a request with a trained model."""

    def __init__(self, forecaster: Forecaster, defaults: Configuration) -> None:
        self.forecaster = forecaster
        self.defaults = defaults

    def invoke(self, body: bytes, content_type: str, accept: str | None) -> tuple[bytes, str]:
        """Decode the instances, sample their forecasts, encode the predictions."""
        kind = mime(content_type)
        if kind not in TYPES:
            raise UnsupportedContentType(content_type, TYPES)
        response_type = negotiate(accept, TYPES, kind)
        records, configuration = self._decode(body, kind)
        series = [self._series(index, record) for index, record in enumerate(records)]
        if not series:
            raise BadRequest("The request holds no instances")
        samples = self.forecaster.sample(series, configuration.num_samples)
        predictions = [configuration.summarize(paths) for paths in samples]
        if response_type == JSON:
            return json.dumps({"predictions": predictions}).encode(), JSON
        return "".join(json.dumps(item) + "\n" for item in predictions).encode(), JSONLINES

    def _decode(self, body: bytes, kind: str) -> tuple[list[Any], Configuration]:
        try:
            text = body.decode("utf-8")
            if kind == JSONLINES:
                return [json.loads(line) for line in text.splitlines() if line.strip()], self.defaults
            document = json.loads(text)
            if not isinstance(document, dict) or not isinstance(document.get("instances"), list):
                raise TypeError('expected {"instances": [...], "configuration": {...}}')
            configuration = document.get("configuration")
            if configuration is None:
                return document["instances"], self.defaults
            return document["instances"], Configuration.parse(configuration, self.defaults)
        except (ValueError, TypeError) as error:
            raise BadRequest(f"Cannot read the {kind} request: {error}") from None

    def _series(self, index: int, record: Any) -> Series:
        try:
            series = parse_record(record)
            return self.forecaster.config.fields.select(series, extra_length=self.forecaster.layout.prediction_length)
        except (ValueError, TypeError) as error:
            raise BadRequest(f"Instance {index}: {error}") from None


def _strings(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise TypeError(f"{name} must be a list")
    return list(value)
