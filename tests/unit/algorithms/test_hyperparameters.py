"""Hyperparameter declarations: SageMaker's string values checked, with errors that name them."""

from __future__ import annotations

import pytest

from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

K = Hyperparameter("k", "int", required=True, minimum=1)
RATE = Hyperparameter("learning_rate", "float", default="auto", minimum=0, exclusive_minimum=True, auto=True)
MODE = Hyperparameter("algorithm_mode", "str", default="regular", choices=("regular", "randomized"))
METRICS = Hyperparameter("eval_metrics", "list", default=["msd"], choices=("msd", "ssd"))
BIAS = Hyperparameter("use_bias", "bool", default=True)

TOY = Algorithm(
    name="toy",
    module="toy",
    title="Toy",
    family="testing",
    repositories=("toy",),
    hyperparameters=(K, RATE, MODE, METRICS, BIAS),
    metrics=(Metric.quality("test", "msd"),),
    channels={"train": True},
    content_types=("text/csv",),
    default_content_type="text/csv",
    inference_content_types=("text/csv",),
    accept_types=("application/json",),
)


@pytest.mark.parametrize(
    ("item", "text", "value"),
    [
        (K, "10", 10),
        (K, "10.0", 10),
        (RATE, "auto", "auto"),
        (RATE, "AUTO", "auto"),
        (RATE, "0.5", 0.5),
        (MODE, "randomized", "randomized"),
        (METRICS, '["msd", "ssd"]', ["msd", "ssd"]),
        (METRICS, "['ssd']", ["ssd"]),
        (METRICS, "msd,ssd", ["msd", "ssd"]),
        (BIAS, "False", False),
        (BIAS, "true", True),
    ],
)
def test_values_are_parsed_from_strings(item: Hyperparameter, text: str, value: object) -> None:
    assert item.parse(text) == value


@pytest.mark.parametrize(
    ("item", "text", "why"),
    [
        (K, "abc", "must be an integer"),
        (K, "2.5", "must be an integer"),
        (K, "0", "must be >= 1"),
        (RATE, "0", "must be > 0 or auto"),
        (RATE, "nan", "finite"),
        (MODE, "fast", "must be one of regular, randomized"),
        (METRICS, "msd,mse", "must be one of msd, ssd"),
        (BIAS, "yes", "true or false"),
    ],
)
def test_invalid_values_name_the_hyperparameter(item: Hyperparameter, text: str, why: str) -> None:
    with pytest.raises(AlgorithmError) as raised:
        item.parse(text)
    assert item.name in str(raised.value)
    assert why in str(raised.value)


def test_defaults_fill_what_is_not_given() -> None:
    values = TOY.parse_hyperparameters({"k": "3", "_tuning_objective_metric": "test:msd", "sagemaker_region": "x"})
    assert values == {"k": 3, "learning_rate": "auto", "algorithm_mode": "regular", "eval_metrics": ["msd"], "use_bias": True}


def test_missing_required_is_named() -> None:
    with pytest.raises(AlgorithmError, match="Missing required hyperparameter.*: k"):
        TOY.parse_hyperparameters({})


def test_unknown_is_refused_unless_the_algorithm_is_open() -> None:
    with pytest.raises(AlgorithmError, match="Unknown hyperparameter.*: colour"):
        TOY.parse_hyperparameters({"k": "2", "colour": "red"})
    from dataclasses import replace

    assert replace(TOY, open_hyperparameters=True).parse_hyperparameters({"k": "2", "colour": "red"})["colour"] == "red"


def test_quality_metric_regex_matches_amazon_log_lines() -> None:
    import re

    metric = Metric.quality("test", "msd")
    assert metric.name == "test:msd"
    match = re.search(metric.regex, "#quality_metric: host=algo-1, test msd <loss>=1.25")
    assert match is not None and float(match.group(1)) == 1.25
    assert metric.definition() == {"Name": "test:msd", "Regex": metric.regex}
