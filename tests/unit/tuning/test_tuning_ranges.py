"""ParameterRanges are parsed and checked as AWS checks them."""

from __future__ import annotations

import pytest

from shipyard.errors import AwsError
from shipyard.tuning.ranges import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    parse_ranges,
    to_string,
)


def _refused(ranges: dict) -> str:
    with pytest.raises(AwsError) as caught:
        parse_ranges(ranges)
    assert caught.value.code == "ValidationException"
    assert caught.value.status == 400
    return caught.value.message


def test_parses_every_kind_in_request_order() -> None:
    parsed = parse_ranges(
        {
            "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.5", "ScalingType": "Logarithmic"},
                {"Name": "momentum", "MinValue": "0", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"},
            ],
            "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": " 1", "MaxValue": "10"}],
        }
    )
    assert parsed == [
        IntegerRange("max_depth", 1, 10, "Auto"),
        ContinuousRange("eta", 0.01, 0.5, "Logarithmic"),
        ContinuousRange("momentum", 0.0, 0.999, "ReverseLogarithmic"),
        CategoricalRange("booster", ("gbtree", "dart")),
    ]
    assert parsed[0].search_scale == "Linear"
    assert parsed[1].search_scale == "Logarithmic"


def test_equal_bounds_are_a_range() -> None:
    assert parse_ranges({"IntegerParameterRanges": [{"Name": "k", "MinValue": "3", "MaxValue": "3"}]}) == [
        IntegerRange("k", 3, 3)
    ]


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        (
            {"AutoParameters": [{"Name": "eta", "ValueHint": "0.1"}]},
            (
                "AutoParameters are not supported: give the hyperparameters to tune as IntegerParameterRanges, "
                "ContinuousParameterRanges or CategoricalParameterRanges."
            ),
        ),
        ({}, "ParameterRanges must contain at least one hyperparameter range to tune."),
        (
            {"IntegerParameterRanges": [{"Name": "k", "MinValue": "5", "MaxValue": "1"}]},
            (
                "The MinValue of the hyperparameter 'k' must be less than or equal to its MaxValue "
                "(MinValue 5, MaxValue 1)."
            ),
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0.5", "MaxValue": "0.1"}]},
            (
                "The MinValue of the hyperparameter 'eta' must be less than or equal to its MaxValue "
                "(MinValue 0.5, MaxValue 0.1)."
            ),
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "abc", "MaxValue": "1"}]},
            "The MinValue 'abc' of the hyperparameter 'eta' is not a number.",
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "0", "MaxValue": "inf"}]},
            "The MaxValue 'inf' of the hyperparameter 'eta' is not a number.",
        ),
        (
            {"ContinuousParameterRanges": [{"Name": "eta", "MinValue": "nan", "MaxValue": "1"}]},
            "The MinValue 'nan' of the hyperparameter 'eta' is not a number.",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "k", "MinValue": "1.5", "MaxValue": "4"}]},
            "The MinValue '1.5' of the hyperparameter 'k' is not an integer.",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "k", "MinValue": "1", "MaxValue": ""}]},
            "The MaxValue '' of the hyperparameter 'k' is not an integer.",
        ),
        (
            {"IntegerParameterRanges": [{"Name": "k", "MinValue": "0", "MaxValue": "4", "ScalingType": "Logarithmic"}]},
            (
                "The hyperparameter 'k' uses Logarithmic scaling, which works only for ranges of values greater than 0 "
                "(MinValue 0)."
            ),
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "eta", "MinValue": "-1", "MaxValue": "1", "ScalingType": "Logarithmic"}
                ]
            },
            (
                "The hyperparameter 'eta' uses Logarithmic scaling, which works only for ranges of values greater than 0 "
                "(MinValue -1.0)."
            ),
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "m", "MinValue": "0.5", "MaxValue": "1", "ScalingType": "ReverseLogarithmic"}
                ]
            },
            (
                "The hyperparameter 'm' uses ReverseLogarithmic scaling, which works only for ranges entirely within "
                "0 <= x < 1.0 (MinValue 0.5, MaxValue 1.0)."
            ),
        ),
        (
            {
                "ContinuousParameterRanges": [
                    {"Name": "m", "MinValue": "-0.1", "MaxValue": "0.5", "ScalingType": "ReverseLogarithmic"}
                ]
            },
            (
                "The hyperparameter 'm' uses ReverseLogarithmic scaling, which works only for ranges entirely within "
                "0 <= x < 1.0 (MinValue -0.1, MaxValue 0.5)."
            ),
        ),
        (
            {
                "IntegerParameterRanges": [
                    {"Name": "k", "MinValue": "0", "MaxValue": "0", "ScalingType": "ReverseLogarithmic"}
                ]
            },
            (
                "The hyperparameter 'k' is an integer range: ReverseLogarithmic scaling is supported only for "
                "continuous parameter ranges."
            ),
        ),
        (
            {
                "IntegerParameterRanges": [{"Name": "a", "MinValue": "1", "MaxValue": "2"}],
                "CategoricalParameterRanges": [{"Name": "a", "Values": ["x"]}],
            },
            "The hyperparameter 'a' appears in more than one parameter range.",
        ),
        (
            {
                "IntegerParameterRanges": [{"Name": f"i{n}", "MinValue": "1", "MaxValue": "2"} for n in range(16)],
                "CategoricalParameterRanges": [{"Name": f"c{n}", "Values": ["x"]} for n in range(15)],
            },
            "The number of hyperparameters to tune (31) exceeds the maximum of 30.",
        ),
    ],
)
def test_refusals_in_aws_terms(ranges: dict, message: str) -> None:
    assert _refused(ranges) == message


def test_thirty_hyperparameters_are_allowed() -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": f"c{n}", "Values": ["x", "y"]} for n in range(30)]}
    assert len(parse_ranges(ranges)) == 30


@pytest.mark.parametrize(
    ("item", "value", "text"),
    [
        (IntegerRange("k", 1, 100), 12, "12"),
        (IntegerRange("k", 1, 100), 12.0, "12"),
        (ContinuousRange("eta", 0.0, 1.0), 0.123456789, "0.123457"),
        (ContinuousRange("eta", 1e-6, 1.0), 1.0000000001e-05, "1e-05"),
        (ContinuousRange("eta", 0.0, 10.0), 3.0, "3.0"),
        # Rounding never leaves the range.
        (ContinuousRange("m", 0.0, 0.9999999), 0.99999989, "0.9999999"),
        (ContinuousRange("m", 0.1234564, 1.0), 0.1234564001, "0.1234564"),
        (CategoricalRange("booster", ("gbtree", "dart")), "dart", "dart"),
    ],
)
def test_to_string(item, value, text: str) -> None:
    assert to_string(item, value) == text
