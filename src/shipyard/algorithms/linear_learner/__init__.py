"""Linear Learner (``linear-learner``): linear regression and binary / multiclass classification.

Like SageMaker's, it trains ``num_models`` linear models in parallel by mini-batch SGD, Adam
or RMSProp (one with the given settings, the others with close ones wherever a setting is
``auto``), on standardised features and labels, keeps the best model and epoch on the
validation channel (else the training channel) by ``binary_classifier_model_selection_criteria``
or the loss, and, for binary classifiers, calibrates the decision threshold for that
criterion. The test channel is scored with SageMaker's metrics.
"""

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

PREDICTOR_TYPES = ("binary_classifier", "multiclass_classifier", "regressor")
BINARY_CRITERIA = ("accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision", "loss_function")
LOSSES = (
    "auto",
    "logistic",
    "squared_loss",
    "absolute_loss",
    "hinge_loss",
    "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss",
    "quantile_loss",
    "huber_loss",
    "softmax_loss",
)

#: Metrics by predictor type: (name, log kind, maximize).
BINARY_METRICS = (
    ("objective_loss", "loss", False),
    ("binary_classification_accuracy", "score", True),
    ("binary_f_beta", "score", True),
    ("precision", "score", True),
    ("recall", "score", True),
    ("roc_auc_score", "score", True),
)
MULTICLASS_METRICS = (
    ("objective_loss", "loss", False),
    ("multiclass_accuracy", "score", True),
    ("multiclass_top_k_accuracy", "score", True),
    ("macro_f_beta", "score", True),
    ("macro_precision", "score", True),
    ("macro_recall", "score", True),
    ("dcg", "score", True),
)
REGRESSOR_METRICS = (
    ("objective_loss", "loss", False),
    ("mse", "loss", False),
    ("rmse", "loss", False),
    ("absolute_loss", "loss", False),
)


def _metrics() -> tuple[Metric, ...]:
    seen: dict[str, Metric] = {"train:objective_loss": Metric.quality("train", "objective_loss")}
    for channel in ("validation", "test"):
        for name, kind, maximize in BINARY_METRICS + MULTICLASS_METRICS + REGRESSOR_METRICS:
            seen.setdefault(f"{channel}:{name}", Metric.quality(channel, name, kind, maximize=maximize))
    return tuple(seen.values())


def _auto_float(name: str, description: str, **bounds: float) -> Hyperparameter:
    return Hyperparameter(name, "float", "auto", auto=True, description=description, **bounds)


def _flag(name: str, default: object, description: str) -> Hyperparameter:
    return Hyperparameter(name, "bool", default, auto=True, description=description)


ALGORITHM = Algorithm(
    name="linear-learner",
    module="linear_learner",
    title="Linear Learner",
    family="regression, classification",
    repositories=("linear-learner",),
    hyperparameters=(
        Hyperparameter("predictor_type", "str", required=True, choices=PREDICTOR_TYPES, description="Kind of target."),
        Hyperparameter(
            "num_classes", "int", None, minimum=3, maximum=1_000_000,
            description="Number of classes (labels 0..num_classes-1); required for multiclass_classifier.",
        ),
        Hyperparameter(
            "feature_dim", "int", "auto", minimum=1, auto=True, description="Number of features (auto: from the data)."
        ),
        Hyperparameter("accuracy_top_k", "int", 3, minimum=1, description="k of the multiclass top-k accuracy metric."),
        Hyperparameter(
            "balance_multiclass_weights", "bool", False, description="Weight classes so each matters equally in the loss."
        ),
        _auto_float("beta_1", "Adam's first-moment decay rate.", minimum=0, maximum=1),
        _auto_float("beta_2", "Adam's second-moment decay rate.", minimum=0, maximum=1),
        _auto_float("bias_lr_mult", "Learning-rate multiplier of the bias.", minimum=0, exclusive_minimum=True),
        _auto_float("bias_wd_mult", "L2 multiplier of the bias (auto: no regularisation).", minimum=0),
        Hyperparameter(
            "binary_classifier_model_selection_criteria", "str", "accuracy", choices=BINARY_CRITERIA,
            description="How a binary classifier's model and threshold are chosen.",
        ),
        Hyperparameter(
            "early_stopping_patience", "int", 3, minimum=1, description="Epochs without improvement before stopping."
        ),
        Hyperparameter(
            "early_stopping_tolerance", "float", 0.001, minimum=0, exclusive_minimum=True,
            description="Relative improvement below which an epoch counts as no improvement.",
        ),
        Hyperparameter("epochs", "int", 15, minimum=1, description="Maximum passes over the training data."),
        Hyperparameter(
            "f_beta", "float", 1.0, minimum=0, exclusive_minimum=True, description="Beta of the F-score metrics."
        ),
        Hyperparameter(
            "huber_delta", "float", 1.0, minimum=0, exclusive_minimum=True, description="Delta of huber_loss."
        ),
        Hyperparameter("init_bias", "float", 0.0, description="Initial bias."),
        Hyperparameter(
            "init_method", "str", "uniform", choices=("uniform", "normal"), description="Initial weight distribution."
        ),
        Hyperparameter(
            "init_scale", "float", 0.07, minimum=0, exclusive_minimum=True,
            description="Half-width of the uniform initial weights.",
        ),
        Hyperparameter(
            "init_sigma", "float", 0.01, minimum=0, exclusive_minimum=True,
            description="Standard deviation of the normal initial weights.",
        ),
        _auto_float("l1", "L1 regularisation.", minimum=0),
        _auto_float("learning_rate", "Step size (auto: depends on the optimizer).", minimum=0, exclusive_minimum=True),
        Hyperparameter("loss", "str", "auto", choices=LOSSES, description="Loss function (auto: by predictor_type)."),
        Hyperparameter(
            "loss_insensitivity", "float", 0.01, minimum=0, exclusive_minimum=True,
            description="Epsilon of the eps_insensitive losses.",
        ),
        _auto_float("lr_scheduler_factor", "Learning-rate decay factor per scheduler step.", minimum=0, maximum=1),
        _auto_float("lr_scheduler_minimum_lr", "Lowest learning rate.", minimum=0, exclusive_minimum=True),
        Hyperparameter(
            "lr_scheduler_step", "int", "auto", minimum=1, auto=True, description="Steps between learning-rate decays."
        ),
        Hyperparameter(
            "margin", "float", 1.0, minimum=0, exclusive_minimum=True, description="Margin of hinge_loss."
        ),
        Hyperparameter("mini_batch_size", "int", 1000, minimum=1, description="Rows per mini-batch."),
        _auto_float("momentum", "Momentum of the sgd optimizer.", minimum=0, maximum=1),
        _flag("normalize_data", True, "Standardise the features before training."),
        _flag("normalize_label", "auto", "Standardise the label (auto: for regressors)."),
        Hyperparameter(
            "num_calibration_samples", "int", "auto", minimum=1, auto=True,
            description="Rows used to calibrate a binary classifier's threshold.",
        ),
        Hyperparameter(
            "num_models", "int", "auto", minimum=1, auto=True, description="Models trained in parallel."
        ),
        Hyperparameter(
            "num_point_for_scaler", "int", 10_000, minimum=1, description="Rows used to compute normalisation."
        ),
        Hyperparameter(
            "optimizer", "str", "auto", choices=("auto", "sgd", "adam", "rmsprop"), description="Optimizer (auto: adam)."
        ),
        Hyperparameter(
            "positive_example_weight_mult", "str", "1.0",
            description="Weight of positive examples: a positive number, balanced, or auto (chosen by validation).",
        ),
        Hyperparameter(
            "quantile", "float", 0.5, minimum=0, maximum=1, exclusive_minimum=True, description="Quantile of quantile_loss."
        ),
        Hyperparameter("target_precision", "float", 0.8, minimum=0, maximum=1, description="Precision to hold."),
        Hyperparameter("target_recall", "float", 0.8, minimum=0, maximum=1, description="Recall to hold."),
        _flag("unbias_data", "auto", "Centre the features (auto: when use_bias and the data is dense)."),
        _flag("unbias_label", "auto", "Centre the label (auto: regressors with use_bias)."),
        Hyperparameter("use_bias", "bool", True, description="Fit an intercept."),
        Hyperparameter("use_lr_scheduler", "bool", True, description="Decay the learning rate."),
        _auto_float("wd", "L2 regularisation (weight decay).", minimum=0),
    ),
    metrics=_metrics(),
    channels={"train": True, "validation": False, "test": False},
    content_types=(CSV, RECORDIO),
    default_content_type=RECORDIO,
    inference_content_types=(CSV, JSON, JSONLINES, RECORDIO),
    accept_types=(JSON, JSONLINES, CSV, RECORDIO),
    notes="CSV training data has the label first. A CSV response holds predicted_label (classifiers) or score (regressors).",
)
