"""DeepAR forecasting (``forecasting-deepar``): a probabilistic autoregressive RNN in PyTorch.

Training data is DeepAR's JSON lines (``start``, ``target``, optional ``cat`` and
``dynamic_feat``); an optional ``test`` channel holds the same series extended by
``prediction_length`` points and yields SageMaker's ``#test_score`` metrics.
"""

from shipyard.algorithms.content_types import JSON, JSONLINES
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

#: The quantiles SageMaker evaluates on the test channel by default.
DEFAULT_TEST_QUANTILES = ("0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9")

LIKELIHOODS = ("gaussian", "beta", "negative-binomial", "student-T", "deterministic-L1")


def _test_score(metric: str) -> Metric:
    """A metric DeepAR logs as ``#test_score (algo-1, RMSE): 0.5``."""
    escaped = metric.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")
    return Metric(f"test:{metric}", rf"#test_score \(\S+, {escaped}\): (\S+)")


ALGORITHM = Algorithm(
    name="forecasting-deepar",
    module="deepar",
    title="DeepAR Forecasting",
    family="forecasting",
    repositories=("forecasting-deepar", "deepar"),
    hyperparameters=(
        Hyperparameter("context_length", "int", required=True, minimum=1, description="time points the model sees before predicting"),
        Hyperparameter("epochs", "int", required=True, minimum=1, description="maximum passes over the training data"),
        Hyperparameter("prediction_length", "int", required=True, minimum=1, description="the forecast horizon"),
        Hyperparameter("time_freq", "str", required=True, description="series granularity: an optional integer and M, W, D, H or min (e.g. 5min)"),
        Hyperparameter("cardinality", "str", default="auto", description="categories per cat feature: auto, ignore, or a list such as [2, 3]"),
        Hyperparameter("dropout_rate", "float", default=0.1, minimum=0, maximum=1, description="zoneout rate of the RNN cells during training"),
        Hyperparameter("early_stopping_patience", "int", minimum=1, description="stop after this many epochs without a lower loss"),
        Hyperparameter("embedding_dimension", "int", default=10, minimum=1, description="size of each categorical feature's embedding"),
        Hyperparameter("learning_rate", "float", default=1e-3, minimum=0, exclusive_minimum=True),
        Hyperparameter("likelihood", "str", default="student-T", choices=LIKELIHOODS, description="the noise model"),
        Hyperparameter("mini_batch_size", "int", default=128, minimum=1),
        Hyperparameter("num_cells", "int", default=40, minimum=1, description="cells in each RNN layer"),
        Hyperparameter("num_dynamic_feat", "str", default="auto", description="dynamic_feat series per record: auto, ignore, or an integer"),
        Hyperparameter("num_eval_samples", "int", default=100, minimum=1, description="sample paths per series for the test metrics"),
        Hyperparameter("num_layers", "int", default=2, minimum=1, description="RNN layers"),
        Hyperparameter("test_quantiles", "list", default=list(DEFAULT_TEST_QUANTILES), description="quantiles of the test quantile losses"),
    ),
    metrics=(
        _test_score("RMSE"),
        _test_score("mean_absolute_QuantileLoss"),
        _test_score("mean_wQuantileLoss"),
        *(_test_score(f"wQuantileLoss[{quantile}]") for quantile in DEFAULT_TEST_QUANTILES),
        Metric.quality("train", "final_loss"),
        Metric("train:loss", r"#quality_metric: host=\S+, epoch=\d+, train loss <loss>=(\S+)"),
    ),
    channels={"train": True, "test": False},
    content_types=(JSONLINES, JSON),
    default_content_type=JSONLINES,
    inference_content_types=(JSON, JSONLINES),
    accept_types=(JSON, JSONLINES),
    deep=True,
    notes="The test channel's series extend the train series by prediction_length points.",
)
