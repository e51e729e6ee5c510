"""SageMaker's ``ParameterRanges``: what a tuning job may vary, checked as AWS checks it.

The service model already bounds each list (at most 30 ranges of a kind, 1 to 30 values per
categorical range) and the ``ScalingType`` enum; this module checks what the model cannot:
numbers in the bound strings, their order, what each scaling type allows, unique names and
the total number of tuned hyperparameters.

``Auto`` scaling is searched linearly: AWS does not document its rule, and a linear scale
is what it documents as the safe default for ranges within one order of magnitude. Users
who want a log scale ask for ``Logarithmic``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from shipyard.errors import AwsError

#: The most hyperparameters one tuning job may tune (all kinds of range together).
MAX_TUNED_HYPERPARAMETERS = 30

LINEAR = "Linear"
LOGARITHMIC = "Logarithmic"
REVERSE_LOGARITHMIC = "ReverseLogarithmic"


@dataclass(frozen=True)
class IntegerRange:
    """Whole numbers from ``low`` to ``high``, both included."""

    name: str
    low: int
    high: int
    #: As requested: Auto, Linear or Logarithmic.
    scaling: str = "Auto"

    @property
    def search_scale(self) -> str:
        """The scale a strategy samples on: Linear or Logarithmic (Auto is Linear)."""
        return LINEAR if self.scaling == "Auto" else self.scaling


@dataclass(frozen=True)
class ContinuousRange:
    """Real numbers from ``low`` to ``high``, both included."""

    name: str
    low: float
    high: float
    #: As requested: Auto, Linear, Logarithmic or ReverseLogarithmic.
    scaling: str = "Auto"

    @property
    def search_scale(self) -> str:
        """The scale a strategy samples on: Linear, Logarithmic or ReverseLogarithmic (Auto is Linear)."""
        return LINEAR if self.scaling == "Auto" else self.scaling


@dataclass(frozen=True)
class CategoricalRange:
    """One of ``values``, passed to the training job as given."""

    name: str
    values: tuple[str, ...]


Range = IntegerRange | ContinuousRange | CategoricalRange


def parse_ranges(ranges: dict[str, Any]) -> list[Range]:
    """The ranges of a ``ParameterRanges`` structure, in request order: integer ranges, then
    continuous, then categorical.

    Raises ``ValidationException`` for anything AWS refuses (see the module docstring), and
    for ``AutoParameters``, which need SageMaker's Autotune and are not supported.
    """
    if ranges.get("AutoParameters"):
        raise _invalid(
            "AutoParameters are not supported: give the hyperparameters to tune as IntegerParameterRanges, "
            "ContinuousParameterRanges or CategoricalParameterRanges."
        )
    parsed: list[Range] = [_integer(item) for item in ranges.get("IntegerParameterRanges") or []]
    parsed += [_continuous(item) for item in ranges.get("ContinuousParameterRanges") or []]
    categorical = ranges.get("CategoricalParameterRanges") or []
    parsed += [CategoricalRange(item["Name"], tuple(item["Values"])) for item in categorical]
    if not parsed:
        raise _invalid("ParameterRanges must contain at least one hyperparameter range to tune.")
    if len(parsed) > MAX_TUNED_HYPERPARAMETERS:
        raise _invalid(
            f"The number of hyperparameters to tune ({len(parsed)}) exceeds the maximum of "
            f"{MAX_TUNED_HYPERPARAMETERS}."
        )
    seen: set[str] = set()
    for item in parsed:
        if item.name in seen:
            raise _invalid(f"The hyperparameter '{item.name}' appears in more than one parameter range.")
        seen.add(item.name)
    return parsed


def to_string(item: Range, value: float | str) -> str:
    """How ``value`` of ``item`` is passed to a training job: integers as ``"12"``, reals
    rounded to 6 significant digits (kept within the range) in Python's shortest form
    (``"0.0123457"``, ``"1e-05"``), categorical values as given."""
    if isinstance(item, IntegerRange):
        return str(int(value))
    if isinstance(item, ContinuousRange):
        rounded = min(max(float(f"{float(value):.6g}"), item.low), item.high)
        return repr(rounded)
    return str(value)


def _integer(item: dict[str, Any]) -> IntegerRange:
    name, scaling = item["Name"], item.get("ScalingType") or "Auto"
    low, high = (_integer_bound(name, key, item[key]) for key in ("MinValue", "MaxValue"))
    if scaling == REVERSE_LOGARITHMIC:
        raise _invalid(
            f"The hyperparameter '{name}' is an integer range: ReverseLogarithmic scaling is supported only "
            "for continuous parameter ranges."
        )
    _check_order(name, low, high)
    _check_scaling(name, scaling, low, high)
    return IntegerRange(name, low, high, scaling)


def _continuous(item: dict[str, Any]) -> ContinuousRange:
    name, scaling = item["Name"], item.get("ScalingType") or "Auto"
    low, high = (_real_bound(name, key, item[key]) for key in ("MinValue", "MaxValue"))
    _check_order(name, low, high)
    _check_scaling(name, scaling, low, high)
    return ContinuousRange(name, low, high, scaling)


def _real_bound(name: str, key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _invalid(f"The {key} '{text}' of the hyperparameter '{name}' is not a number.")
    return value


def _integer_bound(name: str, key: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise _invalid(f"The {key} '{text}' of the hyperparameter '{name}' is not an integer.") from None


def _check_order(name: str, low: float, high: float) -> None:
    if low > high:
        raise _invalid(
            f"The MinValue of the hyperparameter '{name}' must be less than or equal to its MaxValue "
            f"(MinValue {low}, MaxValue {high})."
        )


def _check_scaling(name: str, scaling: str, low: float, high: float) -> None:
    if scaling == LOGARITHMIC and low <= 0:
        raise _invalid(
            f"The hyperparameter '{name}' uses Logarithmic scaling, which works only for ranges of values "
            f"greater than 0 (MinValue {low})."
        )
    if scaling == REVERSE_LOGARITHMIC and not 0 <= low <= high < 1:
        raise _invalid(
            f"The hyperparameter '{name}' uses ReverseLogarithmic scaling, which works only for ranges "
            f"entirely within 0 <= x < 1.0 (MinValue {low}, MaxValue {high})."
        )


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)
