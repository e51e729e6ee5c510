"""K-Means (``kmeans``): clustering with SageMaker's web-scale k-means hyperparameters.

Training streams mini-batches through a k-means with ``k * extra_center_factor`` centers
and reduces them to ``k`` with a local Lloyd's (scikit-learn's KMeans) weighted by cluster
sizes, as SageMaker describes its algorithm (see :mod:`.model`). ``test:msd`` /
``test:ssd`` score the test channel.
"""

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

_TRAINING_TYPES = (CSV, RECORDIO)
_REQUEST_TYPES = (CSV, JSON, JSONLINES, RECORDIO)
_RESPONSE_TYPES = (JSON, JSONLINES, CSV, RECORDIO)

ALGORITHM = Algorithm(
    name="kmeans",
    module="kmeans",
    title="K-Means",
    family="clustering",
    repositories=("kmeans",),
    hyperparameters=(
        Hyperparameter("feature_dim", "int", required=True, minimum=1, description="Number of features of the input data."),
        Hyperparameter("k", "int", required=True, minimum=1, description="Number of clusters."),
        Hyperparameter("epochs", "int", 1, minimum=1, description="Passes over the training data."),
        Hyperparameter(
            "eval_metrics",
            "list",
            ["msd"],
            # No ``choices``: the SDK sends a JSON list (``["msd", "ssd"]``) whose quoted items
            # the generic list parser keeps; train.py checks the names.
            description='Metrics scored on the test channel: ["msd"], ["ssd"] or ["msd","ssd"].',
        ),
        Hyperparameter(
            "extra_center_factor",
            "int",
            "auto",
            minimum=1,
            auto=True,
            description="Training keeps k * extra_center_factor centers, reduced to k at the end.",
        ),
        Hyperparameter(
            "half_life_time_size",
            "int",
            0,
            minimum=0,
            description="Points after which an observation's weight in a center halves (0: no decay).",
        ),
        Hyperparameter("init_method", "str", "random", choices=("random", "kmeans++"), description="How the initial centers are chosen."),
        Hyperparameter(
            "local_lloyd_init_method",
            "str",
            "kmeans++",
            choices=("random", "kmeans++"),
            description="Initialisation of the final Lloyd's reduction to k centers.",
        ),
        Hyperparameter("local_lloyd_max_iter", "int", 300, minimum=1, description="Iterations of the final Lloyd's reduction."),
        Hyperparameter(
            "local_lloyd_num_trials",
            "int",
            "auto",
            minimum=1,
            auto=True,
            description="Runs of the final Lloyd's reduction; the one with the least loss is kept.",
        ),
        Hyperparameter("local_lloyd_tol", "float", 0.0001, minimum=0, maximum=1, description="Early-stopping tolerance of the final Lloyd's reduction."),
        Hyperparameter("mini_batch_size", "int", 5000, minimum=1, description="Rows per mini-batch."),
        Hyperparameter(
            "force_dense",
            "bool",
            True,
            description="Undocumented; the SageMaker SDK's KMeans always sends True. Sparse data is densified per mini-batch.",
        ),
    ),
    metrics=(
        Metric.quality("test", "msd"),
        Metric.quality("test", "ssd"),
    ),
    channels={"train": True, "test": False},
    content_types=_TRAINING_TYPES,
    default_content_type=RECORDIO,
    inference_content_types=_REQUEST_TYPES,
    accept_types=_RESPONSE_TYPES,
    notes="CSV training data holds features only (label_size=0).",
)
