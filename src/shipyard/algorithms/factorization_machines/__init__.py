"""Factorization Machines (``factorization-machines``): second-order FMs over sparse features.

The model is ``w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j`` with ``num_factors``-long
``v_i``, trained by mini-batch Adam whose updates touch only the features present in a
batch. Training data is RecordIO-protobuf only, as in SageMaker; the test channel is scored
with RMSE (regressor) or cross-entropy, accuracy and F1 at threshold 0.5 (binary classifier).
"""

from shipyard.algorithms.content_types import JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

INIT_METHODS = ("normal", "uniform", "constant")


def _rate(name: str, default: float | None, description: str) -> Hyperparameter:
    return Hyperparameter(name, "float", default, minimum=0, description=description)


def _init(term: str, sigma: float) -> tuple[Hyperparameter, ...]:
    return (
        Hyperparameter(
            f"{term}_init_method", "str", "normal", choices=INIT_METHODS, description=f"Initialisation of the {term} terms."
        ),
        _rate(f"{term}_init_scale", None, f"Half-width of the uniform initial {term} terms (default 0.01)."),
        _rate(f"{term}_init_sigma", sigma, f"Standard deviation of the normal initial {term} terms."),
        Hyperparameter(f"{term}_init_value", "float", None, description=f"Constant initial {term} terms (default 0)."),
    )


ALGORITHM = Algorithm(
    name="factorization-machines",
    module="factorization_machines",
    title="Factorization Machines",
    family="recommendation",
    repositories=("factorization-machines",),
    hyperparameters=(
        Hyperparameter("feature_dim", "int", required=True, minimum=1, description="Dimension of the feature space."),
        Hyperparameter("num_factors", "int", required=True, minimum=1, description="Dimension of the factorization."),
        Hyperparameter(
            "predictor_type", "str", required=True, choices=("binary_classifier", "regressor"), description="Kind of target."
        ),
        Hyperparameter("epochs", "int", 1, minimum=1, description="Passes over the training data."),
        Hyperparameter("mini_batch_size", "int", 1000, minimum=1, description="Rows per mini-batch."),
        Hyperparameter(
            "clip_gradient", "float", None, minimum=0, exclusive_minimum=True,
            description="Clip each gradient component to [-clip_gradient, clip_gradient].",
        ),
        Hyperparameter(
            "eps", "float", None, minimum=0, exclusive_minimum=True, description="Optimizer's epsilon (default 1e-8)."
        ),
        Hyperparameter(
            "rescale_grad", "float", None, minimum=0, exclusive_minimum=True,
            description="Gradient multiplier of the summed batch gradient (default 1/mini_batch_size).",
        ),
        _rate("bias_lr", 0.1, "Learning rate of the bias."),
        _rate("linear_lr", 0.001, "Learning rate of the linear terms."),
        _rate("factors_lr", 0.0001, "Learning rate of the factors."),
        _rate("bias_wd", 0.01, "Weight decay of the bias."),
        _rate("linear_wd", 0.001, "Weight decay of the linear terms."),
        _rate("factors_wd", 0.00001, "Weight decay of the factors."),
        *_init("bias", 0.01),
        *_init("linear", 0.01),
        *_init("factors", 0.001),
    ),
    metrics=(
        Metric.quality("test", "rmse"),
        Metric.quality("test", "binary_classification_accuracy", "score", maximize=True),
        Metric.quality("test", "binary_classification_cross_entropy"),
        Metric.quality("test", "binary_f_beta", "score", maximize=True),
        Metric.quality("train", "rmse"),
        Metric.quality("train", "binary_classification_cross_entropy"),
    ),
    channels={"train": True, "test": False},
    content_types=(RECORDIO,),
    default_content_type=RECORDIO,
    inference_content_types=(JSON, JSONLINES, RECORDIO),
    accept_types=(JSON, JSONLINES, RECORDIO),
    notes="Training data is RecordIO-protobuf (sparse or dense float32 features, one label per record).",
)
