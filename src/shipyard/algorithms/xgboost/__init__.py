"""XGBoost as SageMaker's built-in algorithm (``sagemaker-xgboost:1.7-1``, algorithm mode).

Hyperparameters are SageMaker's; any other name is handed to XGBoost as it is, the way the
container passes XGBoost's full parameter set. Per round it logs
``[N]#011train-rmse:0.5#011validation-rmse:0.6`` as SageMaker's logs show it, and writes
the booster to ``xgboost-model``.
"""

from __future__ import annotations

from shipyard.algorithms.content_types import CSV, LIBSVM, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

OBJECTIVES = (
    "binary:hinge",
    "binary:logistic",
    "binary:logitraw",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:map",
    "rank:ndcg",
    "rank:pairwise",
    "reg:absoluteerror",
    "reg:gamma",
    "reg:linear",
    "reg:logistic",
    "reg:pseudohubererror",
    "reg:squarederror",
    "reg:squaredlogerror",
    "reg:tweedie",
    "survival:aft",
    "survival:cox",
)

#: Metrics the job reports, per channel: XGBoost's own and those SageMaker's container adds.
MAXIMIZED = ("accuracy", "auc", "aucpr", "f1", "map", "ndcg", "r2")
MINIMIZED = (
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "logloss",
    "mae",
    "mape",
    "merror",
    "mlogloss",
    "mse",
    "poisson-nloglik",
    "rmse",
    "rmsle",
)

#: What follows a metric's name on a round's line: its value (SageMaker's number pattern).
_VALUE = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def _metric(channel: str, name: str, maximize: bool) -> Metric:
    # SageMaker's regex matches the tab as CloudWatch shows it (#011); a raw tab matches too.
    return Metric(f"{channel}:{name}", rf".*\[[0-9]+\].*(?:#011|\t){channel}-{name}:{_VALUE}.*", maximize)


def _float(name: str, default: float | None = None, *, minimum: float | None = 0, maximum: float | None = None,
           exclusive_minimum: bool = False, description: str = "") -> Hyperparameter:
    return Hyperparameter(name, "float", default, minimum=minimum, maximum=maximum,
                          exclusive_minimum=exclusive_minimum, description=description)


def _int(name: str, default: int | None = None, *, minimum: int | None = 0, maximum: int | None = None,
         description: str = "") -> Hyperparameter:
    return Hyperparameter(name, "int", default, minimum=minimum, maximum=maximum, description=description)


def _choice(name: str, choices: tuple[str, ...], default: str | None = None, description: str = "") -> Hyperparameter:
    return Hyperparameter(name, "str", default, choices=choices, description=description)


HYPERPARAMETERS = (
    Hyperparameter("num_round", "int", required=True, minimum=1, description="Number of boosting rounds."),
    _int("num_class", minimum=2, description="Number of classes; required for multi:softmax and multi:softprob."),
    _choice("objective", OBJECTIVES, "reg:squarederror", "The learning task."),
    Hyperparameter("eval_metric", "list", description="Comma-separated evaluation metrics (default per objective)."),
    _float("eta", 0.3, maximum=1, description="Step size shrinkage."),
    _float("gamma", 0, description="Minimum loss reduction to split a leaf."),
    _int("max_depth", 6, description="Maximum tree depth; 0 means no limit."),
    _float("min_child_weight", 1, description="Minimum sum of instance weight in a child."),
    _float("max_delta_step", 0, description="Maximum delta step of each tree's weights."),
    _float("subsample", 1, maximum=1, exclusive_minimum=True, description="Row subsample ratio."),
    _float("colsample_bytree", 1, maximum=1, exclusive_minimum=True, description="Column subsample ratio per tree."),
    _float("colsample_bylevel", 1, maximum=1, exclusive_minimum=True, description="Column subsample ratio per level."),
    _float("colsample_bynode", 1, maximum=1, exclusive_minimum=True, description="Column subsample ratio per node."),
    _float("lambda", 1, description="L2 regularization on weights."),
    _float("alpha", 0, description="L1 regularization on weights."),
    _float("base_score", minimum=None, description="Initial prediction score (XGBoost estimates it when unset)."),
    _choice("booster", ("gbtree", "gblinear", "dart"), "gbtree", "Which booster to use."),
    _choice("tree_method", ("auto", "exact", "approx", "hist", "gpu_hist"), "auto", "Tree construction algorithm."),
    _float("scale_pos_weight", 1, exclusive_minimum=True, description="Balance of positive and negative weights."),
    _choice("grow_policy", ("depthwise", "lossguide"), "depthwise", "How new nodes are added."),
    _int("max_leaves", 0, description="Maximum number of leaves (lossguide)."),
    _int("max_bin", 256, minimum=2, description="Maximum number of histogram bins (hist)."),
    _float("sketch_eps", 0.03, maximum=1, exclusive_minimum=True, description="Sketch accuracy (approx)."),
    _int("num_parallel_tree", 1, minimum=1, description="Trees grown per round."),
    _choice("sample_type", ("uniform", "weighted"), "uniform", "Dart sampling algorithm."),
    _choice("normalize_type", ("tree", "forest"), "tree", "Dart normalization."),
    _float("rate_drop", 0, maximum=1, description="Dart dropout rate."),
    _int("one_drop", 0, maximum=1, description="Dart: always drop at least one tree."),
    _float("skip_drop", 0, maximum=1, description="Dart: probability of skipping dropout."),
    _float("tweedie_variance_power", 1.5, minimum=1, maximum=2, exclusive_minimum=True,
           description="Variance power of the Tweedie distribution."),
    Hyperparameter("monotone_constraints", "str", description="Monotonicity per feature, e.g. (0,1,-1)."),
    Hyperparameter("interaction_constraints", "str", description="Nested lists of features allowed to interact."),
    _int("early_stopping_rounds", minimum=1, description="Stop when the validation metric has not improved for this many rounds."),
    _int("csv_weights", 0, maximum=1, description="1: the CSV column after the label holds instance weights."),
    _int("seed", 0, minimum=None, description="Random number seed."),
    _int("nthread", minimum=1, description="Threads (default: the instance's CPUs)."),
    _int("verbosity", 1, maximum=3, description="XGBoost's message verbosity."),
)

ALGORITHM = Algorithm(
    name="xgboost",
    module="xgboost",
    title="XGBoost",
    family="regression, classification, ranking",
    repositories=("sagemaker-xgboost", "xgboost"),
    hyperparameters=HYPERPARAMETERS,
    metrics=tuple(
        _metric(channel, name, name in MAXIMIZED)
        for channel in ("train", "validation")
        for name in sorted(MAXIMIZED + MINIMIZED)
    ),
    channels={"train": True, "validation": False},
    content_types=(LIBSVM, CSV, RECORDIO),
    default_content_type=LIBSVM,
    inference_content_types=(CSV, LIBSVM, RECORDIO),
    accept_types=(CSV, "application/json", "application/jsonlines", RECORDIO),
    open_hyperparameters=True,
    notes="Other XGBoost parameters pass through to xgboost.train. The best iteration is kept when "
    "early_stopping_rounds is set.",
)
