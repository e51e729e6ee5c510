"""SageMaker's JSONPath subset for batch transform's DataProcessing filters."""

from __future__ import annotations

import pytest

from shipyard.jobs.jsonpath import JsonPath, JsonPathError

ROW = ["id-7", "1.5", "2.5", "3.5", "4.5", "5.5", "6.5"]
RECORD = {"id": 7, "features": [1, 2, 3], "meta": {"a": 1, "b": [10, 20]}, "SageMakerOutput": {"score": 0.9}}


@pytest.mark.parametrize(
    ("expression", "document", "expected"),
    [
        ("$", ROW, ROW),
        ("$[0]", ROW, "id-7"),
        ("$[-1]", ROW, "6.5"),
        ("$[1:]", ROW, ROW[1:]),
        ("$[:2]", ROW, ROW[:2]),
        ("$[2:5]", ROW, ROW[2:5]),
        ("$[:]", ROW, ROW),
        ("$[0,2]", ROW, ["id-7", "2.5"]),
        ("$[0,-1]", ROW, ["id-7", "6.5"]),
        ("$[0,5:]", ROW, ["id-7", "5.5", "6.5"]),
        ("$[ 0 , 2 ]", ROW, ["id-7", "2.5"]),
        ("$[*]", ROW, ROW),
        ("$.features", RECORD, [1, 2, 3]),
        ("$.features[1:]", RECORD, [2, 3]),
        ("$['features']", RECORD, [1, 2, 3]),
        ('$["id"]', RECORD, 7),
        ("$['id','SageMakerOutput']", RECORD, {"id": 7, "SageMakerOutput": {"score": 0.9}}),
        ("$.SageMakerOutput.score", RECORD, 0.9),
        ("$.meta.['a','b']", RECORD, {"a": 1, "b": [10, 20]}),
        ("$.meta.b[-1]", RECORD, 20),
        ("$.meta.*", RECORD, [1, [10, 20]]),
        ("$.meta[*]", RECORD, [1, [10, 20]]),
        ("$[*].x", [{"x": 1}, {"x": 2}], [1, 2]),
        ("$['a,b']", {"a,b": 3}, 3),
        ("$['it\\'s', \"x\"]", {"it's": 1, "x": 2, "y": 3}, {"it's": 1, "x": 2}),
    ],
)
def test_expressions_select_as_sagemaker_does(expression: str, document: object, expected: object) -> None:
    assert JsonPath.parse(expression).apply(document) == expected


def test_only_the_root_is_the_root() -> None:
    assert JsonPath.parse("$").is_root
    assert JsonPath.parse(" $ ").is_root
    assert not JsonPath.parse("$[0]").is_root


@pytest.mark.parametrize("expression", ["", "features", "$features", "$[", "$[a]", "$[1 2]", "$[]", "$.", "$[0]x", "$..a"])
def test_expressions_outside_the_subset_are_refused(expression: str) -> None:
    with pytest.raises(JsonPathError):
        JsonPath.parse(expression)


@pytest.mark.parametrize(
    ("expression", "document", "message"),
    [
        ("$[7]", ROW, "index 7 is outside the record's 7 elements"),
        ("$[0,-8]", ROW, "index -8 is outside"),
        ("$.missing", RECORD, "the record has no key 'missing'"),
        ("$['id','nope']", RECORD, "no key 'nope'"),
        ("$.id", ROW, "cannot select 'id' of an array"),
        ("$[0]", RECORD, "cannot index an object"),
        ("$.id.*", RECORD, "'*' needs an object or an array"),
    ],
)
def test_expressions_that_do_not_fit_the_record_fail(expression: str, document: object, message: str) -> None:
    with pytest.raises(JsonPathError, match=message.replace("(", r"\(").replace("*", r"\*")):
        JsonPath.parse(expression).apply(document)
