"""LightGBM as SageMaker JumpStart's tabular algorithm (``lightgbm-classification-model`` /
``lightgbm-regression-model``).

Training data is CSV with the label first and no header, in the ``train`` channel (and an
optional ``validation`` channel), or laid out in the ``train`` channel as JumpStart's
``training`` channel is: ``train/``, optional ``validation/`` and ``categorical_index.json``.
Without validation data, 20% of the training rows are held out for it, as JumpStart does.
The task follows the labels unless ``objective`` says otherwise: integer classes 0..K-1 are
binary (K = 2) or multiclass classification, anything else regression. Each round logs
``[N]<tab>train's rmse: 0.5<tab>validation's rmse: 0.6``.
"""

from __future__ import annotations

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

#: SageMaker's LightGBM evaluation metrics, and whether higher is better.
METRICS = {
    "rmse": False,
    "l1": False,
    "l2": False,
    "huber": False,
    "fair": False,
    "binary_logloss": False,
    "binary_error": False,
    "auc": True,
    "average_precision": True,
    "multi_logloss": False,
    "multi_error": False,
    "auc_mu": True,
    "cross_entropy": False,
}

OBJECTIVES = (
    "auto",
    "regression",
    "regression_l1",
    "huber",
    "fair",
    "poisson",
    "quantile",
    "mape",
    "gamma",
    "tweedie",
    "binary",
    "multiclass",
    "multiclassova",
    "cross_entropy",
)

_VALUE = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"

HYPERPARAMETERS = (
    Hyperparameter("num_boost_round", "int", 100, minimum=1, description="Maximum number of boosting iterations."),
    Hyperparameter("early_stopping_rounds", "int", 10,
                   description="Stop when no validation metric improved for this many rounds; <= 0 disables it."),
    Hyperparameter("metric", "str", "auto", choices=("auto", *METRICS),
                   description="Evaluation metric; auto: rmse, binary_logloss or multi_logloss by task."),
    Hyperparameter("objective", "str", "auto", choices=OBJECTIVES,
                   description="Learning objective; auto: regression, binary or multiclass by the labels."),
    Hyperparameter("learning_rate", "float", 0.1, minimum=0, maximum=1, exclusive_minimum=True,
                   description="Shrinkage rate."),
    Hyperparameter("num_leaves", "int", 64, minimum=2, maximum=131072, description="Maximum leaves in one tree."),
    Hyperparameter("feature_fraction", "float", 0.9, minimum=0, maximum=1, exclusive_minimum=True,
                   description="Fraction of features per tree."),
    Hyperparameter("bagging_fraction", "float", 0.9, minimum=0, maximum=1, exclusive_minimum=True,
                   description="Fraction of rows per bagging round."),
    Hyperparameter("bagging_freq", "int", 1, minimum=0, description="Bag every this many iterations; 0 disables it."),
    Hyperparameter("max_depth", "int", 6, description="Maximum tree depth; <= 0 means no limit."),
    Hyperparameter("min_data_in_leaf", "int", 3, minimum=0, description="Minimum rows in one leaf."),
    Hyperparameter("max_delta_step", "float", 0.0, description="Limit of leaf outputs; <= 0 means none."),
    Hyperparameter("lambda_l1", "float", 0.0, minimum=0, description="L1 regularization."),
    Hyperparameter("lambda_l2", "float", 0.0, minimum=0, description="L2 regularization."),
    Hyperparameter("boosting", "str", "gbdt", choices=("gbdt", "rf", "dart", "goss"), description="Boosting type."),
    Hyperparameter("min_gain_to_split", "float", 0.0, minimum=0, description="Minimum gain to split."),
    Hyperparameter("scale_pos_weight", "float", 1.0, minimum=0, exclusive_minimum=True,
                   description="Weight of the positive class (binary)."),
    Hyperparameter("tree_learner", "str", "serial", choices=("serial", "feature", "data", "voting"),
                   description="Tree learner type."),
    Hyperparameter("feature_fraction_bynode", "float", 1.0, minimum=0, maximum=1, exclusive_minimum=True,
                   description="Fraction of features per tree node."),
    Hyperparameter("is_unbalance", "str", "False", choices=("True", "False"),
                   description="Reweight unbalanced binary classes (not with scale_pos_weight)."),
    Hyperparameter("max_bin", "int", 255, minimum=2, description="Maximum bins per feature."),
    Hyperparameter("tweedie_variance_power", "float", 1.5, minimum=1, maximum=1.999999,
                   description="Variance power of the Tweedie distribution (regression)."),
    Hyperparameter("num_threads", "int", 0, minimum=0, description="Threads; 0: the instance's CPUs."),
    Hyperparameter("verbosity", "int", 1, description="LightGBM's message verbosity."),
    Hyperparameter("seed", "int", 0, description="Random seed of bagging, feature sampling and the validation split."),
)

ALGORITHM = Algorithm(
    name="lightgbm",
    module="lightgbm",
    title="LightGBM",
    family="classification, regression",
    repositories=("lightgbm", "lightgbm-classification-model", "lightgbm-regression-model"),
    hyperparameters=HYPERPARAMETERS,
    metrics=tuple(
        Metric(f"{channel}:{name}", rf"{channel}'s {name}: {_VALUE}", maximize)
        for name, maximize in METRICS.items()
        for channel in ("train", "validation")
    ),
    channels={"train": True, "validation": False},
    channel_aliases={"training": "train"},
    content_types=(CSV,),
    default_content_type=CSV,
    inference_content_types=(CSV, JSON, JSONLINES),
    accept_types=(JSON, "application/json;verbose", JSONLINES, CSV),
    notes="JumpStart's channel name training is accepted for train. The model is LightGBM's text "
    "format, model.txt.",
)
