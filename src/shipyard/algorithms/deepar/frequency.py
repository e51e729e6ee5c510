"""DeepAR's ``time_freq``: the series' time step, its lags and its derived date features."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shipyard.algorithms.errors import AlgorithmError

_PATTERN = re.compile(r"^([1-9]\d*)?(M|W|D|H|min)$")

#: Seasonal periods, in base units, whose lags the model sees (besides the last 3 values).
_PERIODS = {
    "M": (12, 24),
    "W": (4, 8, 52),
    "D": (7, 14, 21, 28, 365),
    "H": (24, 48, 72, 168),
    "min": (60, 120, 1440, 10080),
}

#: The date features DeepAR derives for each base unit (its documentation's table).
_FEATURES = {
    "min": ("minute_of_hour", "hour_of_day", "day_of_week", "day_of_month", "day_of_year"),
    "H": ("hour_of_day", "day_of_week", "day_of_month", "day_of_year"),
    "D": ("day_of_week", "day_of_month", "day_of_year"),
    "W": ("day_of_month", "week_of_year"),
    "M": ("month_of_year",),
}

_TIMEDELTA_UNITS = {"W": "weeks", "D": "days", "H": "hours", "min": "minutes"}


@dataclass(frozen=True)
class Frequency:
    """A time step: ``multiple`` times a base ``unit`` (M, W, D, H or min)."""

    multiple: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Frequency:
        """``"5min"`` -> ``Frequency(5, "min")``; an AlgorithmError naming time_freq if invalid."""
        match = _PATTERN.match(text.strip())
        if not match:
            raise AlgorithmError(
                f"Invalid value {text!r} for hyperparameter time_freq: must be an optional positive integer "
                "followed by M, W, D, H or min (for example D or 5min)"
            )
        return cls(int(match.group(1) or 1), match.group(2))

    def __str__(self) -> str:
        return f"{self.multiple if self.multiple > 1 else ''}{self.unit}"

    def lags(self, longest: int) -> list[int]:
        """Lags of the target fed to the network: 1-3 and the seasonal ones a series of
        ``longest`` points can hold, in steps of this frequency."""
        seasonal = (round(period / self.multiple) for period in _PERIODS[self.unit])
        return sorted({1, 2, 3} | {lag for lag in seasonal if 3 < lag < longest})

    def dates(self, start: pd.Timestamp, periods: int, first: int = 0) -> pd.DatetimeIndex:
        """The time stamps of ``periods`` steps, from step ``first`` (may be negative) after ``start``."""
        if self.unit == "M":
            # Offsets from the start, not step by step: Jan 31 + 2 months is Mar 31, not Mar 29.
            steps = range(first, first + periods)
            return pd.DatetimeIndex([start + pd.DateOffset(months=self.multiple * step) for step in steps])
        step = pd.Timedelta(**{_TIMEDELTA_UNITS[self.unit]: self.multiple})
        return pd.date_range(start + first * step, periods=periods, freq=step)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The names of :meth:`time_features`' columns."""
        return _FEATURES[self.unit]

    def time_features(self, dates: pd.DatetimeIndex) -> np.ndarray:
        """The derived date features of ``dates``, each scaled to [-0.5, 0.5]: (len(dates), n)."""
        columns = [_feature(name, dates) for name in self.feature_names]
        return np.stack(columns, axis=1).astype(np.float32)


#: Each date feature: its values from a date index, and its largest value.
_FEATURE_VALUES = {
    "minute_of_hour": (lambda dates: dates.minute, 59),
    "hour_of_day": (lambda dates: dates.hour, 23),
    "day_of_week": (lambda dates: dates.day_of_week, 6),
    "day_of_month": (lambda dates: dates.day - 1, 30),
    "day_of_year": (lambda dates: dates.day_of_year - 1, 365),
    "week_of_year": (lambda dates: dates.isocalendar().week.to_numpy() - 1, 52),
    "month_of_year": (lambda dates: dates.month - 1, 11),
}


def _feature(name: str, dates: pd.DatetimeIndex) -> np.ndarray:
    values, largest = _FEATURE_VALUES[name]
    return np.asarray(values(dates), dtype=np.float64) / largest - 0.5
