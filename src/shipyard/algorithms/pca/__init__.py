"""PCA (``pca``): principal component analysis, ``regular`` (exact) or ``randomized`` mode.

The model keeps the top ``num_components`` principal directions, their singular values
and the training mean; inference projects each record onto them (after subtracting the
mean when ``subtract_mean`` is true). SageMaker's PCA declares no tunable metrics, so none
are declared here; the log shows the explained variance.
"""

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter

ALGORITHM = Algorithm(
    name="pca",
    module="pca",
    title="PCA",
    family="dimensionality reduction",
    repositories=("pca",),
    hyperparameters=(
        Hyperparameter("feature_dim", "int", required=True, minimum=1, description="Input dimension."),
        Hyperparameter("mini_batch_size", "int", required=True, minimum=1, description="Rows per mini-batch."),
        Hyperparameter("num_components", "int", required=True, minimum=1, description="Principal components to compute."),
        Hyperparameter(
            "algorithm_mode",
            "str",
            "regular",
            choices=("regular", "randomized"),
            description="regular: exact decomposition; randomized: an approximation for many rows and features.",
        ),
        Hyperparameter(
            "extra_components",
            "int",
            -1,
            minimum=-1,
            description="Oversampling of the randomized mode (-1: max(10, num_components)).",
        ),
        Hyperparameter("subtract_mean", "bool", True, description="Center the data in training and at inference."),
    ),
    metrics=(),
    channels={"train": True, "test": False},
    content_types=(CSV, RECORDIO),
    default_content_type=RECORDIO,
    inference_content_types=(CSV, JSON, JSONLINES, RECORDIO),
    accept_types=(JSON, JSONLINES, RECORDIO),
    notes="CSV training data holds features only (label_size=0).",
)
