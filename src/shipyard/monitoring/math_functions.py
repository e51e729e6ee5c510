"""The values of CloudWatch metric math and its functions (those of the AWS guide's "Metric
math syntax and functions" whose meaning it pins down), applied to arguments already evaluated.

A value is a number, a :class:`Series` or a list of them. Element-wise functions (``ABS``,
``CEIL``, ``FLOOR``, ``LOG``, ``LOG10``, ``SQRT``) take any of the three; ``DIFF``,
``DIFF_TIME``, ``RATE`` and ``RUNNING_SUM`` walk each series from its oldest point;
``SUM``, ``AVG``, ``MIN``, ``MAX``, ``STDDEV`` (population) and ``DATAPOINT_COUNT`` reduce
one series to a number or a list to a series (per timestamp, over the series that have a
point there); ``FIRST``, ``LAST`` and ``REMOVE_EMPTY`` pick from a list; ``IF`` filters or
collates series; ``FILL`` and ``TIME_SERIES`` lay series out on the periods of the request's
time range (:class:`Window`). A point that is not a finite number is left out of a series.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import accumulate, pairwise

from shipyard.monitoring.metric_store import MINUTE_MS
from shipyard.monitoring.statistics import aligned_start

#: ``FILL``'s keywords, in place of a filler value.
FILL_KEYWORDS = ("REPEAT", "LINEAR")


class ExpressionError(Exception):
    """An expression that cannot be parsed or evaluated; the message says why."""


@dataclass(frozen=True)
class Series:
    """One time series: values by period start (epoch milliseconds)."""

    label: str
    points: Mapping[int, float]
    #: The period in seconds of the metric it comes from, where known.
    period_s: int | None = None


#: What an expression evaluates to.
Value = float | Series | list[Series]
#: A function's argument: a value, or one of :data:`FILL_KEYWORDS`.
Argument = Value | str


@dataclass(frozen=True)
class Window:
    """The request's time range, and the period for series that have none of their own."""

    start_ms: int
    end_ms: int
    period_s: int | None

    def timestamps(self, period_s: int | None) -> range:
        """The period starts of the range for a series of ``period_s`` (else the window's):
        from :func:`~shipyard.monitoring.statistics.aligned_start`, as the metrics' datapoints."""
        period = period_s or self.period_s
        if period is None:
            raise ExpressionError("No metric in the request to take the period of the time series from")
        return range(aligned_start(self.start_ms), self.end_ms, max(period * 1000, MINUTE_MS))


def derive(source: Series, points: Mapping[int, float]) -> Series:
    """A series like ``source`` (label, period) with ``points``, oldest first, finite only."""
    return Series(
        source.label, {time: value for time, value in sorted(points.items()) if math.isfinite(value)}, source.period_s
    )


def safely(apply: Callable[..., float]) -> Callable[..., float]:
    """``apply``, giving NaN (a point left out) where Python's math refuses the arguments."""

    def call(*arguments: float) -> float:
        try:
            return apply(*arguments)
        except (ValueError, OverflowError, ZeroDivisionError):
            return math.nan

    return call


def call(name: str, arguments: list[Argument], window: Window) -> Value:
    """Apply function ``name`` (one of :data:`FUNCTIONS`) to its evaluated ``arguments``."""
    least, most, apply = FUNCTIONS[name]
    if not least <= len(arguments) <= most:
        count = _WORDS[least] if least == most else f"{_WORDS[least]} or {_WORDS[most]}"
        raise ExpressionError(f"{name} takes {count} argument{'s' if most > 1 else ''}")
    return apply(name, arguments, window)


# --- Element-wise ----------------------------------------------------------------------

_ELEMENT_WISE: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": math.ceil,
    "FLOOR": math.floor,
    "LOG": safely(math.log),
    "LOG10": safely(math.log10),
    "SQRT": safely(math.sqrt),
}


def _element_wise(name: str, arguments: list[Argument], window: Window) -> Value:
    return map_values(arguments[0], _ELEMENT_WISE[name], name)


def map_values(value: Argument, apply: Callable[[float], float], name: str) -> Value:
    """``apply`` to a number, to each point of a series, or of each series of a list."""
    if isinstance(value, str):
        raise ExpressionError(f"{name} takes a number, a time series or a list of time series")
    if isinstance(value, list):
        return [derive(series, {t: float(apply(v)) for t, v in series.points.items()}) for series in value]
    if isinstance(value, Series):
        return derive(value, {t: float(apply(v)) for t, v in value.points.items()})
    return float(apply(value)) if math.isfinite(value) else math.nan


# --- Along each series -----------------------------------------------------------------

_SUCCESSIVE: dict[str, Callable[[tuple[int, float], tuple[int, float]], float]] = {
    "DIFF": lambda before, now: now[1] - before[1],
    "DIFF_TIME": lambda before, now: (now[0] - before[0]) / 1000,
    "RATE": lambda before, now: (now[1] - before[1]) * 1000 / (now[0] - before[0]),
}


def _successive(name: str, arguments: list[Argument], window: Window) -> Value:
    """Each point against its series' previous one; the oldest point has none."""
    compare = _SUCCESSIVE[name]
    return _per_series(
        name,
        arguments[0],
        lambda series: {now[0]: compare(before, now) for before, now in pairwise(sorted(series.points.items()))},
    )


def _running_sum(name: str, arguments: list[Argument], window: Window) -> Value:
    def running(series: Series) -> dict[int, float]:
        times = sorted(series.points)
        return dict(zip(times, accumulate(series.points[time] for time in times), strict=True))

    return _per_series(name, arguments[0], running)


def _per_series(name: str, value: Argument, points: Callable[[Series], Mapping[int, float]]) -> Value:
    if isinstance(value, list):
        return [derive(series, points(series)) for series in value]
    if isinstance(value, Series):
        return derive(value, points(value))
    raise ExpressionError(f"{name} takes a time series or a list of time series")


# --- Reductions ------------------------------------------------------------------------

_REDUCTIONS: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": lambda values: math.fsum(values) / len(values),
    "MIN": min,
    "MAX": max,
    "STDDEV": statistics.pstdev,
    "DATAPOINT_COUNT": len,
}


def _reduction(name: str, arguments: list[Argument], window: Window) -> Value:
    """A series' values to a number (NaN for an empty series, but a count of 0), or a
    list's series to one series of the values each timestamp has."""
    reduce, argument = _REDUCTIONS[name], arguments[0]
    if isinstance(argument, Series):
        values = list(argument.points.values())
        if not values and name != "DATAPOINT_COUNT":
            return math.nan
        result = float(reduce(values))
        return result if math.isfinite(result) else math.nan
    if not isinstance(argument, list):
        raise ExpressionError(f"{name} takes a time series or a list of time series")
    by_time: dict[int, list[float]] = {}
    for series in argument:
        for time, value in series.points.items():
            by_time.setdefault(time, []).append(value)
    period = next((series.period_s for series in argument if series.period_s), None)
    return derive(Series(name, {}, period), {time: float(reduce(found)) for time, found in by_time.items()})


# --- Lists -----------------------------------------------------------------------------


def _pick(name: str, arguments: list[Argument], window: Window) -> Value:
    found = _list_argument(name, arguments[0])
    if not found:
        raise ExpressionError(f"{name} of an empty list of time series")
    return found[0] if name == "FIRST" else found[-1]


def _remove_empty(name: str, arguments: list[Argument], window: Window) -> Value:
    return [series for series in _list_argument(name, arguments[0]) if series.points]


def _list_argument(name: str, value: Argument) -> list[Series]:
    if not isinstance(value, list):
        raise ExpressionError(f"{name} takes a list of time series")
    return value


# --- IF ---------------------------------------------------------------------------------


def _if(name: str, arguments: list[Argument], window: Window) -> Value:
    """``IF(condition, then[, otherwise])``, per the guide's "Using IF expressions": a point
    of the condition that is not 0 takes ``then``'s value (0 where that series has none);
    one that is 0 takes ``otherwise``'s, and is left out where there is none."""
    condition, then = arguments[0], arguments[1]
    otherwise = arguments[2] if len(arguments) == 3 else None
    if any(isinstance(argument, (list, str)) for argument in arguments):
        raise ExpressionError("IF takes a number or a time series as each argument")
    if isinstance(condition, float):
        chosen = then if condition else otherwise
        return Series("", {}) if chosen is None else chosen
    assert isinstance(condition, Series)
    points: dict[int, float] = {}
    for time, value in condition.points.items():
        if value:
            points[time] = then if isinstance(then, float) else then.points.get(time, 0.0)  # type: ignore[union-attr]
        elif isinstance(otherwise, float):
            points[time] = otherwise
        elif isinstance(otherwise, Series) and time in otherwise.points:
            points[time] = otherwise.points[time]
    return derive(condition, points)


# --- Laid out on the request's periods --------------------------------------------------


def _fill(name: str, arguments: list[Argument], window: Window) -> Value:
    """``FILL(series or list, filler)``: each period of the range a series has no point for
    gets the filler: a number, the filler series' point there, the latest point before
    (``REPEAT``), or the line between the points around it (``LINEAR``). Periods before a
    series' first point (and, for ``LINEAR``, after its last) stay empty."""
    target, filler = arguments
    if isinstance(target, (float, str)) or isinstance(filler, list):
        raise ExpressionError(
            "FILL takes a time series or a list of time series, then a number, a time series, REPEAT or LINEAR"
        )
    if isinstance(target, list):
        return [_filled(series, filler, window) for series in target]
    return _filled(target, filler, window)


def _filled(series: Series, filler: float | Series | str, window: Window) -> Series:
    points = dict(series.points)
    missing = [time for time in window.timestamps(series.period_s) if time not in points]
    known = sorted(series.points)
    for time in missing:
        at = bisect.bisect(known, time)
        if filler == "REPEAT":
            if at:
                points[time] = series.points[known[at - 1]]
        elif filler == "LINEAR":
            if 0 < at < len(known):
                (t0, t1) = known[at - 1], known[at]
                v0, v1 = series.points[t0], series.points[t1]
                points[time] = v0 + (v1 - v0) * (time - t0) / (t1 - t0)
        elif isinstance(filler, Series):
            if time in filler.points:
                points[time] = filler.points[time]
        else:
            points[time] = float(filler)  # type: ignore[arg-type]
    return derive(series, points)


def _time_series(name: str, arguments: list[Argument], window: Window) -> Value:
    """A point of the (number) argument at every period of the range."""
    value = arguments[0]
    if not isinstance(value, float):
        raise ExpressionError("TIME_SERIES takes a number")
    return derive(Series(name, {}, window.period_s), dict.fromkeys(window.timestamps(None), value))


#: Each function: its least and most arguments, and how to apply it. (``METRICS`` and
#: ``PERIOD`` name the request's queries, so :mod:`~shipyard.monitoring.expressions` has them.)
FUNCTIONS: dict[str, tuple[int, int, Callable[[str, list[Argument], Window], Value]]] = {
    **dict.fromkeys(_ELEMENT_WISE, (1, 1, _element_wise)),
    **dict.fromkeys(_SUCCESSIVE, (1, 1, _successive)),
    **dict.fromkeys(_REDUCTIONS, (1, 1, _reduction)),
    "RUNNING_SUM": (1, 1, _running_sum),
    "FIRST": (1, 1, _pick),
    "LAST": (1, 1, _pick),
    "REMOVE_EMPTY": (1, 1, _remove_empty),
    "IF": (2, 3, _if),
    "FILL": (2, 2, _fill),
    "TIME_SERIES": (1, 1, _time_series),
}
#: CloudWatch functions that are not served, refused by name.
NOT_SERVED = (
    "SEARCH",
    "ANOMALY_DETECTION_BAND",
    "INSIGHT_RULE_METRIC",
    "LAMBDA",
    "SERVICE_QUOTA",
    "SORT",
    "SLICE",
    "METRIC_COUNT",
    "MINUTE",
    "HOUR",
    "DAY",
    "DATE",
    "MONTH",
    "YEAR",
    "EPOCH",
)
_WORDS = {1: "one", 2: "two", 3: "three"}
