"""k-NN (``knn``): k-nearest-neighbours classification and regression.

Training samples ``sample_size`` labelled records, optionally reduces their dimension
(``sign`` random projection or ``fjlt``), and stores them as a flat index (or an IVF index
of k-means cells); inference votes (classifier) or averages (regressor) the labels of the
``k`` nearest neighbours. A ``test`` channel gives ``test:accuracy`` or ``test:mse``.
"""

from shipyard.algorithms.content_types import CSV, JSON, JSONLINES, RECORDIO
from shipyard.algorithms.spec import Algorithm, Hyperparameter, Metric

ALGORITHM = Algorithm(
    name="knn",
    module="knn",
    title="k-NN",
    family="neighbours",
    repositories=("knn",),
    hyperparameters=(
        Hyperparameter("feature_dim", "int", required=True, minimum=1, description="Number of features of the input data."),
        Hyperparameter("k", "int", required=True, minimum=1, description="Number of nearest neighbours."),
        Hyperparameter(
            "predictor_type",
            "str",
            required=True,
            choices=("classifier", "regressor"),
            description="classifier (majority vote) or regressor (mean label).",
        ),
        Hyperparameter("sample_size", "int", required=True, minimum=1, description="Training records sampled into the index."),
        Hyperparameter(
            "dimension_reduction_target",
            "int",
            minimum=1,
            description="Target dimension; required with dimension_reduction_type, less than feature_dim.",
        ),
        Hyperparameter(
            "dimension_reduction_type",
            "str",
            choices=("sign", "fjlt"),
            description="sign (random projection) or fjlt (fast Johnson-Lindenstrauss transform); default none.",
        ),
        Hyperparameter(
            "faiss_index_ivf_nlists",
            "int",
            "auto",
            minimum=1,
            auto=True,
            description="Cells of an IVF index (auto: sqrt(sample_size)).",
        ),
        Hyperparameter(
            "faiss_index_pq_m",
            "int",
            choices=("1", "2", "3", "4", "8", "12", "16", "20", "24", "28", "32", "40", "48", "56", "64", "96"),
            description="Sub-vectors of a faiss.IVFPQ index.",
        ),
        Hyperparameter(
            "index_metric",
            "str",
            "L2",
            choices=("L2", "INNER_PRODUCT", "COSINE"),
            description="Distance between points.",
        ),
        Hyperparameter(
            "index_type",
            "str",
            "faiss.Flat",
            choices=("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"),
            description="Index type.",
        ),
        Hyperparameter("mini_batch_size", "int", 5000, minimum=1, description="Rows per mini-batch."),
    ),
    metrics=(
        Metric.quality("test", "accuracy", "score", maximize=True),
        Metric.quality("test", "mse"),
    ),
    channels={"train": True, "test": False},
    content_types=(CSV, RECORDIO),
    default_content_type=RECORDIO,
    inference_content_types=(CSV, JSON, JSONLINES, RECORDIO),
    accept_types=(JSON, JSONLINES, RECORDIO),
    notes="Labelled training data: CSV with the label first. Add '; verbose=true' to Accept for neighbours' labels and distances.",
)
