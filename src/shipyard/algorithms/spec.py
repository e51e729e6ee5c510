"""What a built-in algorithm declares: hyperparameters, channels, content types, metrics.

Declarations are plain data, importable by the server without numpy: the CLI lists them,
``CreateTrainingJob`` fills in their metric definitions, and the training container
validates hyperparameters against them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from shipyard.algorithms.errors import AlgorithmError

Kind = Literal["int", "float", "bool", "str", "list"]

#: Hyperparameters any algorithm accepts and ignores (set by the SDKs and the tuner).
IGNORED_HYPERPARAMETERS = ("_tuning_objective_metric",)


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter, as SageMaker documents it.

    Values arrive as strings. ``auto`` says the literal ``"auto"`` is accepted besides
    numbers (Linear Learner's ``learning_rate``, for one); ``choices`` restricts a string
    (or list items) to a set; ``minimum``/``maximum`` bound numbers, inclusive unless
    ``exclusive_minimum``.
    """

    name: str
    kind: Kind
    default: Any = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: tuple[str, ...] | None = None
    auto: bool = False
    description: str = ""

    def parse(self, text: str) -> Any:
        """The value of ``text``; an AlgorithmError naming the hyperparameter if invalid."""
        text = str(text).strip()
        if self.auto and text.lower() == "auto":
            return "auto"
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1"):
                return True
            if lowered in ("false", "0"):
                return False
            raise self._invalid(text, "must be true or false")
        if self.kind == "int":
            return self._check_range(text, self._integer(text))
        if self.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise self._invalid(text, "must be a number") from None
            if not math.isfinite(value):
                raise self._invalid(text, "must be a finite number")
            return self._check_range(text, value)
        if self.kind == "list":
            # Comma-separated, or the JSON list the SageMaker SDK sends (``["msd", "ssd"]``).
            items = [item.strip().strip("'\"") for item in text.strip("[]").split(",") if item.strip()]
            for item in items:
                self._check_choice(item)
            return items
        self._check_choice(text)
        return text

    def describe_range(self) -> str:
        """The accepted values in words, for the CLI and error messages."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        parts = []
        if self.minimum is not None:
            parts.append(f"{'>' if self.exclusive_minimum else '>='} {_number(self.minimum)}")
        if self.maximum is not None:
            parts.append(f"<= {_number(self.maximum)}")
        text = " and ".join(parts) if parts else self.kind
        return f"{text} or auto" if self.auto else text

    def _integer(self, text: str) -> int:
        try:
            value = float(text)
        except ValueError:
            raise self._invalid(text, "must be an integer") from None
        if not value.is_integer():
            raise self._invalid(text, "must be an integer")
        return int(value)

    def _check_range(self, text: str, value: float) -> Any:
        low, high = self.minimum, self.maximum
        if low is not None and (value < low or (self.exclusive_minimum and value == low)):
            raise self._invalid(text, f"must be {self.describe_range()}")
        if high is not None and value > high:
            raise self._invalid(text, f"must be {self.describe_range()}")
        return value

    def _check_choice(self, text: str) -> None:
        if self.choices and text not in self.choices:
            raise self._invalid(text, f"must be one of {', '.join(self.choices)}")

    def _invalid(self, text: str, why: str) -> AlgorithmError:
        return AlgorithmError(f"Invalid value {text!r} for hyperparameter {self.name}: {why}")


@dataclass(frozen=True)
class Metric:
    """A metric the algorithm logs, with the regex SageMaker's metric definition uses."""

    name: str
    regex: str
    maximize: bool = False

    @classmethod
    def quality(cls, channel: str, metric: str, kind: str = "loss", *, maximize: bool = False) -> Metric:
        """A metric of Amazon's algorithms: ``#quality_metric: host=algo-1, test msd <loss>=0.5``."""
        return cls(f"{channel}:{metric}", rf"#quality_metric: host=\S+, {channel} {metric} <{kind}>=(\S+)", maximize)

    def definition(self) -> dict[str, str]:
        """The ``MetricDefinitions`` entry of this metric."""
        return {"Name": self.name, "Regex": self.regex}


@dataclass(frozen=True)
class Algorithm:
    """A built-in algorithm's declaration.

    ``module`` is the package under :mod:`shipyard.algorithms`; ``repositories`` are the ECR
    repository names (and short names) that select it. ``channels`` maps channel names to
    whether they are required. ``deep`` says it needs the ``shipyard[deep]`` extra (PyTorch).
    ``open_hyperparameters`` accepts names it does not declare (XGBoost passes them on).
    ``channel_aliases`` maps other names a channel goes by to its declared name (JumpStart
    calls LightGBM's ``train`` channel ``training``).
    """

    name: str
    module: str
    title: str
    family: str
    repositories: tuple[str, ...]
    hyperparameters: tuple[Hyperparameter, ...]
    metrics: tuple[Metric, ...]
    channels: Mapping[str, bool]
    content_types: tuple[str, ...]
    default_content_type: str
    inference_content_types: tuple[str, ...]
    accept_types: tuple[str, ...]
    deep: bool = False
    open_hyperparameters: bool = False
    channel_aliases: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    _by_name: dict[str, Hyperparameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {item.name: item for item in self.hyperparameters})

    def hyperparameter(self, name: str) -> Hyperparameter:
        """The declaration of ``name``."""
        return self._by_name[name]

    def parse_hyperparameters(self, raw: Mapping[str, str]) -> dict[str, Any]:
        """Every declared hyperparameter's value (given or default), checked.

        Raises AlgorithmError naming the first missing, unknown or invalid one.
        """
        given = {name: value for name, value in raw.items() if name not in IGNORED_HYPERPARAMETERS and not name.startswith("sagemaker_")}
        missing = [item.name for item in self.hyperparameters if item.required and item.name not in given]
        if missing:
            raise AlgorithmError(f"Missing required hyperparameter(s) for {self.title}: {', '.join(missing)}")
        unknown = sorted(set(given) - set(self._by_name))
        if unknown and not self.open_hyperparameters:
            raise AlgorithmError(
                f"Unknown hyperparameter(s) for {self.title}: {', '.join(unknown)} "
                f"(see `shipyard algorithms {self.name}`)"
            )
        values: dict[str, Any] = {item.name: item.default for item in self.hyperparameters}
        for name, text in given.items():
            values[name] = self._by_name[name].parse(text) if name in self._by_name else text
        return values

    def metric_definitions(self) -> list[dict[str, str]]:
        """The ``MetricDefinitions`` SageMaker reports for jobs of this algorithm."""
        return [metric.definition() for metric in self.metrics]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
