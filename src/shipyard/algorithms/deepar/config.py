"""What a trained DeepAR model is: its geometry, features and network sizes (``model.json``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shipyard.algorithms.deepar.frequency import Frequency
from shipyard.algorithms.deepar.series import Fields
from shipyard.algorithms.deepar.windows import Layout

CONFIG_FILE = "model.json"


@dataclass(frozen=True)
class ModelConfig:
    """A model's settings, fixed at training and saved beside its weights."""

    time_freq: str
    context_length: int
    prediction_length: int
    lags: tuple[int, ...]
    cardinality: tuple[int, ...]
    num_dynamic_feat: int
    embedding_dimension: int
    num_cells: int
    num_layers: int
    dropout_rate: float
    likelihood: str

    @property
    def frequency(self) -> Frequency:
        return Frequency.parse(self.time_freq)

    @property
    def layout(self) -> Layout:
        return Layout(self.frequency, self.context_length, self.prediction_length, self.lags)

    @property
    def fields(self) -> Fields:
        return Fields(self.cardinality, self.num_dynamic_feat)

    def save(self, directory: Path) -> None:
        """Write ``model.json`` into ``directory``."""
        (directory / CONFIG_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> ModelConfig:
        """The config in ``directory``'s ``model.json``."""
        values: dict[str, Any] = json.loads((directory / CONFIG_FILE).read_text())
        for name in ("lags", "cardinality"):
            values[name] = tuple(values[name])
        return cls(**values)
