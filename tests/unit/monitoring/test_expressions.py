"""Metric math: parsing, evaluation on aligned series, and CloudWatch's errors."""

from __future__ import annotations

import math
import re

import pytest

from shipyard.monitoring.expressions import (
    ExpressionError,
    Series,
    calls_metrics,
    evaluate,
    parse,
    references,
)

M1 = Series("m1", {0: 1.0, 60: 2.0, 120: 3.0})
M2 = Series("m2", {60: 10.0, 120: 20.0, 180: 30.0})
VALUES = {"m1": M1, "m2": M2}
METRICS = [("m1", M1), ("m2", M2)]


def run(text: str):
    return evaluate(parse(text), VALUES, METRICS)


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
    assert evaluate(parse("m1 / z"), {"m1": M1, "z": zero}, []).points == {60: 1.0}


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
    assert math.isnan(evaluate(parse("SUM(e)"), {"e": Series("e", {})}, []))
