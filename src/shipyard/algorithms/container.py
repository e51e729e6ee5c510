"""The training container of a built-in algorithm: SageMaker's side of ``train.py``.

``python -m shipyard.algorithms.container <module>`` runs the algorithm of that package:
:func:`run` reads the job's ``/opt/ml`` tree (through the ``SM_*`` variables
the runner sets, else ``/opt/ml`` itself), checks hyperparameters and channels against the
declaration, calls ``fit(context)``, and ends the process as SageMaker's containers do: exit
0 on success; otherwise ``output/failure`` holds ``ClientError: ...`` (the user's data or
settings) or ``AlgorithmError: ...`` (anything else) and the exit code is non-zero.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.algorithms.content_types import ContentType
from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.spec import Algorithm

if TYPE_CHECKING:
    from shipyard.algorithms.data import Dataset

ML_ROOT = Path("/opt/ml")


@dataclass(frozen=True)
class Channel:
    """A training channel: its local directory and declared content type."""

    name: str
    path: Path
    content_type: ContentType


@dataclass
class TrainingContext:
    """What ``fit`` gets: checked hyperparameters, channels, and where to write."""

    algorithm: Algorithm
    hyperparameters: dict[str, Any]
    channels: dict[str, Channel]
    model_dir: Path
    output_data_dir: Path
    host: str
    hosts: list[str]
    num_cpus: int

    @property
    def is_leader(self) -> bool:
        """Whether this host writes the model (the first host)."""
        return self.host == self.hosts[0]

    def channel(self, name: str) -> Channel | None:
        """The channel called ``name``, if the job has it."""
        return self.channels.get(name)

    def read(self, name: str, *, default_label_size: int = 1, allow_missing: bool = False) -> Dataset:
        """Read channel ``name`` in its content type (see :func:`~shipyard.algorithms.data.read_channel`)."""
        from shipyard.algorithms.data import read_channel

        channel = self.channels.get(name)
        if channel is None:
            raise AlgorithmError(f"{self.algorithm.title} needs a {name} channel")
        return read_channel(
            name, channel.path, channel.content_type, default_label_size=default_label_size, allow_missing=allow_missing
        )

    def read_checked(self, name: str, feature_dim: int, *, default_label_size: int = 1) -> Dataset:
        """Read channel ``name`` (see :meth:`read`); an AlgorithmError unless every record has
        ``feature_dim`` features and no feature or label is NaN or infinite."""
        dataset = self.read(name, default_label_size=default_label_size)
        dataset.check_width(name, feature_dim)
        dataset.check_finite(name)
        return dataset

    def log(self, message: str) -> None:
        """One line of the job's log."""
        print(message, flush=True)

    def quality_metric(self, channel: str, metric: str, value: float, kind: str = "loss") -> None:
        """Log a metric the way Amazon's algorithms do (see :meth:`Metric.quality`)."""
        self.log(f"#quality_metric: host={self.host}, {channel} {metric} <{kind}>={value}")


def run_module(module: str) -> None:
    """Be the training container of the built-in algorithm in package ``module``.

    The job's hyperparameters, channels and content types are checked against the light
    declaration first; the trainer (numpy, pandas, the algorithm's library) is imported
    only then, so a job refused for its input ends in a fraction of a second.
    """
    declaration = importlib.import_module(f"shipyard.algorithms.{module}")

    def fit(context: TrainingContext) -> None:
        importlib.import_module(f"shipyard.algorithms.{module}.train").fit(context)

    run(declaration.ALGORITHM, fit)


def run(algorithm: Algorithm, fit: Callable[[TrainingContext], None]) -> None:
    """Train ``algorithm`` with ``fit`` in this job and exit the process."""
    output_dir = Path(os.environ.get("SM_OUTPUT_DIR") or ML_ROOT / "output")
    try:
        context = _context(algorithm)
        context.log(f"Shipyard built-in algorithm {algorithm.title}; hyperparameters: {json.dumps(context.hyperparameters, sort_keys=True, default=str)}")
        fit(context)
    except AlgorithmError as error:
        _fail(output_dir, f"ClientError: {error}", code=2)
    except Exception as error:  # noqa: BLE001 - whatever else breaks is the algorithm's failure, reported as SageMaker does
        traceback.print_exc()
        _fail(output_dir, f"AlgorithmError: {type(error).__name__}: {error}", code=1)
    sys.exit(0)


def _context(algorithm: Algorithm) -> TrainingContext:
    config_dir = Path(os.environ.get("SM_INPUT_CONFIG_DIR") or ML_ROOT / "input" / "config")
    raw = json.loads((config_dir / "hyperparameters.json").read_text())
    hyperparameters = algorithm.parse_hyperparameters(raw)
    data_config = json.loads((config_dir / "inputdataconfig.json").read_text())
    resources = json.loads((config_dir / "resourceconfig.json").read_text())
    data_dir = Path(os.environ.get("SM_INPUT_DIR") or ML_ROOT / "input") / "data"
    channels = {}
    for given, entry in data_config.items():
        name = algorithm.channel_aliases.get(given, given)
        if name not in algorithm.channels:
            raise AlgorithmError(
                f"{algorithm.title} has no channel {name!r}; its channels are {', '.join(algorithm.channels)}"
            )
        text = entry.get("ContentType") or algorithm.default_content_type
        content_type = ContentType.parse(text)
        if content_type.mime not in algorithm.content_types:
            raise AlgorithmError(
                f"Content type {text!r} of the {name} channel is not supported by {algorithm.title}; "
                f"use one of: {', '.join(algorithm.content_types)}"
            )
        channels[name] = Channel(name, data_dir / given, content_type)
    missing = [name for name, required in algorithm.channels.items() if required and name not in channels]
    if missing:
        raise AlgorithmError(f"{algorithm.title} needs the channel(s): {', '.join(missing)}")
    return TrainingContext(
        algorithm=algorithm,
        hyperparameters=hyperparameters,
        channels=channels,
        model_dir=Path(os.environ.get("SM_MODEL_DIR") or ML_ROOT / "model"),
        output_data_dir=Path(os.environ.get("SM_OUTPUT_DATA_DIR") or ML_ROOT / "output" / "data"),
        host=resources.get("current_host", "algo-1"),
        hosts=list(resources.get("hosts") or ["algo-1"]),
        num_cpus=int(os.environ.get("SM_NUM_CPUS") or os.cpu_count() or 1),
    )


def _fail(output_dir: Path, reason: str, code: int) -> None:
    print(reason, file=sys.stderr, flush=True)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "failure").write_text(reason)
    sys.exit(code)


def require_torch(algorithm: Algorithm) -> Any:
    """The ``torch`` module; a ClientError telling how to install it when it is missing."""
    try:
        import torch
    except ImportError:
        raise AlgorithmError(f"install shipyard[deep] to use {algorithm.name}") from None
    return torch


if __name__ == "__main__":
    run_module(sys.argv[1])
