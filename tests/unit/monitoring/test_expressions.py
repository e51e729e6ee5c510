"""Metric math: parsing, evaluation on aligned series, and CloudWatch's errors."""

from __future__ import annotations

import math
import re

import pytest

from shipyard.monitoring.expressions import (
    ExpressionError,
    Scope,
    Series,
    calls_metrics,
    evaluate,
    parse,
    references,
)
from shipyard.monitoring.math_functions import Window

M1 = Series("m1", {0: 1.0, 60: 2.0, 120: 3.0})
M2 = Series("m2", {60: 10.0, 120: 20.0, 180: 30.0})
VALUES = {"m1": M1, "m2": M2}
METRICS = [("m1", M1), ("m2", M2)]
#: Five one-minute periods from epoch 0, for the functions that lay series out on them.
WINDOW = Window(0, 5 * 60_000, 60)


def run(text: str, values: dict[str, Series] | None = None):
    return evaluate(parse(text), Scope(values or VALUES, METRICS, WINDOW))


def test_precedence_parentheses_and_unary_minus() -> None:
    assert run("1 + 2 * 3") == 7.0
    assert run("(1 + 2) * 3") == 9.0
    assert run("-2 - -3") == 1.0
    assert run("10 / 4 / 5") == 0.5
    assert run("2.5e1") == 25.0


def test_series_align_on_timestamps() -> None:
    assert run("m1 + m2").points == {60: 12.0, 120: 23.0}
    assert run("m2 / m1 * 100").points == {60: 500.0, 120: pytest.approx(2000 / 3)}
    assert run("-m1").points == {0: -1.0, 60: -2.0, 120: -3.0}
    assert run("m1 * 2 + 1").points == {0: 3.0, 60: 5.0, 120: 7.0}


def test_division_by_zero_leaves_the_point_out() -> None:
    zero = Series("z", {0: 0.0, 60: 2.0})
    assert run("m1 / z", {"m1": M1, "z": zero}).points == {60: 1.0}


def test_functions_of_lists_are_series_and_of_one_series_numbers() -> None:
    assert run("SUM([m1, m2])").points == {0: 1.0, 60: 12.0, 120: 23.0, 180: 30.0}
    assert run("AVG([m1, m2])").points == {0: 1.0, 60: 6.0, 120: 11.5, 180: 30.0}
    assert run("MIN([m1, m2])").points[120] == 3.0
    assert run("MAX([m1, m2])").points[120] == 20.0
    assert run("SUM(m1)") == 6.0
    assert run("AVG(m2)") == 20.0
    assert run("m1 / SUM(m1)").points[120] == 0.5


def test_metrics_function_and_lists() -> None:
    assert [s.label for s in run("METRICS()")] == ["m1", "m2"]
    assert [s.label for s in run('METRICS("2")')] == ["m2"]
    assert run("SUM(METRICS())").points[60] == 12.0
    doubled = run("METRICS() * 2")
    assert [s.points.get(60) for s in doubled] == [4.0, 20.0]


def test_references() -> None:
    assert references(parse("SUM([m1, e2]) / (m3 - 1)")) == {"m1", "e2", "m3"}
    assert references(parse("METRICS()")) == set()
    assert calls_metrics(parse("-(SUM(METRICS()) * 2)")) and not calls_metrics(parse("SUM([m1])"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("m1 +", "Unexpected end"),
        ("m1 $ 2", "Unrecognized token '$' at position 4"),
        ("FOO(m1)", "Unknown function FOO"),
        ("(m1 + 2", "expected ')'"),
        ("m1 m2", "Unexpected 'm2'"),
        ("[m1, m2", "expected ']'"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("m9 + 1", "Unknown metric id m9"),
        ("SUM(1)", "SUM takes a time series"),
        ("SUM(m1, m2)", "SUM takes one argument"),
        ("[m1, 2]", "A list may hold time series only"),
        ('"text"', "only allowed as the argument of METRICS"),
        ("METRICS() + [m1]", "same length"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        run(text)


def test_empty_series_reduce_to_nan() -> None:
    assert math.isnan(run("SUM(e)", {"e": Series("e", {})}))


# --- Operators and functions beyond arithmetic ------------------------------------------

MINUTE = 60_000
#: The guide's comparison example: metric1 [30, 20, 0, 0] and metric2 [20, -, 20, -].
A = Series("a", {0: 30.0, MINUTE: 20.0, 2 * MINUTE: 0.0, 3 * MINUTE: 0.0}, 60)
B = Series("b", {0: 20.0, 2 * MINUTE: 20.0}, 60)


def values_of(value) -> list[float]:
    return list(value.points.values())


def test_exponent_binds_tighter_than_unary_minus_and_right_to_left() -> None:
    assert run("-2^2") == -4.0
    assert run("2^3^2") == 512.0
    assert run("2^-1 * 4") == 2.0
    assert run("m1^2").points == {0: 1.0, 60: 4.0, 120: 9.0}
    assert run("(-8)^0.5 + m1").points == {}  # not a real number: left out


def test_comparisons_and_logic_count_a_missing_point_as_zero() -> None:
    ab = {"a": A, "b": B}
    assert values_of(run("a < b", ab)) == [0.0, 0.0, 1.0, 0.0]
    assert values_of(run("a >= 30", ab)) == [1.0, 0.0, 0.0, 0.0]
    assert values_of(run("a > 15 AND b > 15", ab)) == [1.0, 0.0, 0.0, 0.0]
    assert values_of(run("a > 15 && b > 15 || a == 0", ab)) == [1.0, 0.0, 1.0, 1.0]
    assert values_of(run("NOT a", ab)) == [0.0, 0.0, 1.0, 1.0]
    assert run("1 + 2 == 3 OR 0") == 1.0 and run("NOT 2 > 1") == 0.0 and run("1 != 1") == 0.0
    assert run("2 * 3 > 5 AND 1 < 2") == 1.0  # arithmetic, then comparison, then AND
    assert [values_of(s) for s in run("METRICS() > 2")] == [[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]


def test_element_wise_functions() -> None:
    series = {"s": Series("s", {0: -1.5, 60: 0.0, 120: 100.0})}
    assert values_of(run("ABS(s)", series)) == [1.5, 0.0, 100.0]
    assert values_of(run("CEIL(s)", series)) == [-1.0, 0.0, 100.0]
    assert values_of(run("FLOOR(s)", series)) == [-2.0, 0.0, 100.0]
    assert run("LOG10(s)", series).points == {120: 2.0}  # no logarithm of -1.5 or 0
    assert run("SQRT(s)", series).points == {60: 0.0, 120: 10.0}
    assert run("LOG(m1)").points[120] == pytest.approx(math.log(3))
    assert run("ABS(-4) + SQRT(16)") == 8.0
    assert [values_of(s) for s in run("FLOOR(METRICS() / 4)")] == [[0.0, 0.0, 0.0], [2.0, 5.0, 7.0]]


def test_differences_rates_and_running_sums() -> None:
    gappy = {"g": Series("g", {0: 1.0, MINUTE: 4.0, 3 * MINUTE: 10.0}, 60)}
    assert run("DIFF(g)", gappy).points == {MINUTE: 3.0, 3 * MINUTE: 6.0}
    assert run("DIFF_TIME(g)", gappy).points == {MINUTE: 60.0, 3 * MINUTE: 120.0}
    assert run("RATE(g)", gappy).points == {MINUTE: 0.05, 3 * MINUTE: 0.05}
    assert run("RUNNING_SUM(g)", gappy).points == {0: 1.0, MINUTE: 5.0, 3 * MINUTE: 15.0}
    assert [values_of(s) for s in run("RUNNING_SUM([m1, m2])")] == [[1.0, 3.0, 6.0], [10.0, 30.0, 60.0]]


def test_stddev_and_datapoint_count() -> None:
    assert run("STDDEV(m2)") == pytest.approx(math.sqrt(200 / 3))  # population deviation
    assert run("STDDEV([m1, m2])").points == {0: 0.0, 60: 4.0, 120: 8.5, 180: 0.0}
    assert run("DATAPOINT_COUNT(m1)") == 3.0
    assert run("DATAPOINT_COUNT(e)", {"e": Series("e", {})}) == 0.0
    assert run("DATAPOINT_COUNT(METRICS())").points == {0: 1.0, 60: 2.0, 120: 2.0, 180: 1.0}
    assert run("SUM(m1) / DATAPOINT_COUNT(m1) + m1").points[0] == 3.0


def test_first_last_and_remove_empty() -> None:
    assert run("FIRST(METRICS())") is M1 and run("LAST([m1, m2])") is M2
    empty = Series("e", {})
    assert [s.label for s in run("REMOVE_EMPTY([m1, e, m2])", {**VALUES, "e": empty})] == ["m1", "m2"]


def test_if_follows_the_guides_tables() -> None:
    values = {
        "c": Series("c", {0: 1.0, 1: 1.0, 2: 0.0, 3: 0.0}),
        "x": Series("x", {0: 30.0, 2: 0.0, 3: 0.0, 4: 30.0}),
        "y": Series("y", {0: 0.0, 1: 0.0, 2: 20.0, 4: 20.0}),
    }
    assert run("IF(c, x, y)", values).points == {0: 30.0, 1: 0.0, 2: 20.0}
    assert run("IF(c, 5, y)", values).points == {0: 5.0, 1: 5.0, 2: 20.0}
    assert run("IF(c, x, 5)", values).points == {0: 30.0, 1: 0.0, 2: 5.0, 3: 5.0}
    assert run("IF(c, x)", values).points == {0: 30.0, 1: 0.0}
    assert run("IF(x > 10, 1, 0)", values).points == {0: 1.0, 2: 0.0, 3: 0.0, 4: 1.0}
    assert run("IF(1, x, y)", values) is values["x"]
    assert run("IF(0, x)", values).points == {}


def test_fill_lays_each_series_out_on_the_windows_periods() -> None:
    sparse = {"s": Series("s", {MINUTE: 10.0, 3 * MINUTE: 30.0}, 60), "f": Series("f", {0: 7.0, 2 * MINUTE: 8.0}, 60)}
    assert values_of(run("FILL(s, 0)", sparse)) == [0.0, 10.0, 0.0, 30.0, 0.0]
    assert run("FILL(s, REPEAT)", sparse).points == {MINUTE: 10.0, 2 * MINUTE: 10.0, 3 * MINUTE: 30.0, 4 * MINUTE: 30.0}
    assert run("FILL(s, LINEAR)", sparse).points == {MINUTE: 10.0, 2 * MINUTE: 20.0, 3 * MINUTE: 30.0}
    assert run("FILL(s, f)", sparse).points == {0: 7.0, MINUTE: 10.0, 2 * MINUTE: 8.0, 3 * MINUTE: 30.0}
    assert values_of(run("FILL(s, MIN(s))", sparse)) == [10.0, 10.0, 10.0, 30.0, 10.0]
    # A series' own period wins over the window's: two 2-minute periods in five minutes.
    slow = {"s": Series("s", {0: 1.0}, 120)}
    assert run("FILL(s, 9)", slow).points == {0: 1.0, 2 * MINUTE: 9.0, 4 * MINUTE: 9.0}
    assert [len(s.points) for s in run("FILL([s, s], 0)", sparse)] == [5, 5]


def test_time_series_and_period() -> None:
    assert run("TIME_SERIES(2.5)").points == {n * MINUTE: 2.5 for n in range(5)}
    assert run("TIME_SERIES(MAX(m2)) - 1").points[0] == 29.0
    values = {"m1": Series("m1", {}, 300)}
    assert evaluate(parse("PERIOD(m1)"), Scope(values, [("m1", values["m1"])], WINDOW)) == 300.0
    no_period = Scope(VALUES, METRICS, Window(0, 5 * MINUTE, None))
    with pytest.raises(ExpressionError, match="period"):
        evaluate(parse("TIME_SERIES(1)"), no_period)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SEARCH('{AWS/EC2} CPUUtilization', 'Average', 300)", "The function SEARCH is not supported"),
        ("2 * LAMBDA('fn') + 1", "The function LAMBDA is not supported"),
        ('SEARCH("{AWS/EC2}", "Average", 300)', "The function SEARCH is not supported"),
        ("ANOMALY_DETECTION_BAND(m1, 2)", "The function ANOMALY_DETECTION_BAND is not supported"),
        ("SERVICE_QUOTA(m1)", "not supported"),
        ("SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")", "Metrics Insights queries"),
        ("m1 = 2", "Unrecognized token '='"),
        ("m1 AND", "Unexpected end"),
        ("OR m1", "Unexpected 'OR'"),
    ],
)
def test_refused_syntax(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FILL(m1)", "FILL takes two arguments"),
        ("FILL(5, 0)", "FILL takes a time series or a list of time series"),
        ("FILL(m1, [m1])", "FILL takes a time series"),
        ("m1 + REPEAT", "REPEAT is only allowed as the second argument of FILL"),
        ("FILL(REPEAT, m1)", "REPEAT is only allowed"),
        ("IF(m1)", "IF takes two or three arguments"),
        ("IF(METRICS(), 1, 0)", "IF takes a number or a time series"),
        ("ABS(m1, m2)", "ABS takes one argument"),
        ("DIFF(3)", "DIFF takes a time series or a list of time series"),
        ("FIRST(m1)", "FIRST takes a list of time series"),
        ('FIRST(METRICS("zzz"))', "FIRST of an empty list"),
        ("REMOVE_EMPTY(m1)", "REMOVE_EMPTY takes a list"),
        ("TIME_SERIES(m1)", "TIME_SERIES takes a number"),
        ("STDDEV(2)", "STDDEV takes a time series"),
        ("PERIOD(m1 * 2)", "PERIOD takes the Id of a MetricStat query"),
        ("PERIOD(e)", "PERIOD takes the Id of a MetricStat query"),
    ],
)
def test_function_argument_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        run(text, {**VALUES, "e": M1})
