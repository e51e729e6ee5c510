"""Random Cut Forest (``randomcutforest``): unsupervised anomaly detection.

An ensemble of random cut trees, each over a reservoir sample of the training data; a
record's anomaly score is the forest's average displacement (how much the tree would
change if the record were added), low for inliers and high for anomalies. A labelled
``test`` channel (``text/csv;label_size=1``, labels 0/1) is scored with the three-sigma
rule and gives ``test:f1``, ``test:accuracy``, ``test:precision`` and ``test:recall``.
"""

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

_TYPES = (CSV, RECORDIO)
_REQUESTS = (CSV, JSON, JSONLINES, RECORDIO)

ALGORITHM = Algorithm(
    name="randomcutforest",
    module="random_cut_forest",
    title="Random Cut Forest",
    family="anomaly detection",
    repositories=("randomcutforest",),
    hyperparameters=(
        Hyperparameter(
            "feature_dim", "int", required=True, minimum=1, maximum=10000, description="Number of features per record."
        ),
        Hyperparameter(
            "eval_metrics",
            "list",
            default=["accuracy", "precision_recall_fscore"],
            choices=("accuracy", "precision_recall_fscore"),
            description="Metrics computed on a labelled test channel: accuracy, precision_recall_fscore.",
        ),
        Hyperparameter(
            "num_samples_per_tree",
            "int",
            default=256,
            minimum=1,
            maximum=2048,
            description="Size of each tree's reservoir sample of the training data.",
        ),
        Hyperparameter("num_trees", "int", default=100, minimum=50, maximum=1000, description="Trees in the forest."),
        Hyperparameter(
            "mini_batch_size",
            "int",
            default=1000,
            minimum=1,
            description="Undocumented; the SageMaker SDK's RandomCutForest always sends it. Trees sample the whole channel.",
        ),
    ),
    metrics=(
        Metric.quality("test", "f1", "score", maximize=True),
        Metric.quality("test", "accuracy", "score", maximize=True),
        Metric.quality("test", "precision", "score", maximize=True),
        Metric.quality("test", "recall", "score", maximize=True),
    ),
    channels={"train": True, "test": False},
    content_types=_TYPES,
    default_content_type=CSV,
    inference_content_types=_REQUESTS,
    accept_types=(JSON, JSONLINES, CSV, RECORDIO),
    notes="Training CSV is unlabelled (label_size=0) unless the content type says label_size=1; "
    "the test channel needs labels 0 (normal) / 1 (anomaly).",
)
