"""The SageMaker Python SDK's own ``KMeans`` estimator, unchanged, against a Shipyard server.

``KMeans.record_set()`` writes RecordIO-protobuf shards with the SDK's own writer, uploads
them with a ``.amazon.manifest`` file, and ``fit()`` trains on ``ManifestFile`` channels
distributed ``ShardedByS3Key`` with the ``kmeans`` image and the hyperparameters the SDK
adds (``force_dense``, ``feature_dim``, ``mini_batch_size``). The SDK is pointed at the
server as in ``test_sagemaker_sdk.py``: ``AWS_ENDPOINT_URL``, the session's default bucket
given by name, telemetry off through the SDK's config file.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from shipyard.algorithms.kmeans import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import download_model
from shipyard.testing.jobs import sagemaker_role
from shipyard.testing.sdk import sagemaker_session


@pytest.fixture(scope="module")
def session(sqlite_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ``sagemaker.Session`` whose every client reaches the server."""
    with sagemaker_session(sqlite_server, tmp_path_factory.mktemp("sdk-kmeans")) as session:
        yield session


def test_kmeans_estimator_fits_on_its_own_record_sets(
    session: Any, sqlite_server: RunningServer, tmp_path: Path
) -> None:
    import sagemaker
    from sagemaker.amazon.common import RecordDeserializer, RecordSerializer

    data = make_blobs(500, n_features=4, centers=3, cluster_std=0.8, random_state=5)[0].astype(np.float32)
    train, test = data[:400], data[400:]
    bucket = session.default_bucket()
    estimator = sagemaker.KMeans(
        role=sagemaker_role(sqlite_server),
        instance_count=1,
        instance_type="ml.m5.large",
        k=3,
        init_method="kmeans++",
        eval_metrics=["msd", "ssd"],
        data_location=f"s3://{bucket}/kmeans-records",
        output_path=f"s3://{bucket}/kmeans-output",
        sagemaker_session=session,
    )
    records = [estimator.record_set(train), estimator.record_set(test, channel="test")]
    manifest = records[0].s3_data
    assert records[0].s3_data_type == "ManifestFile" and manifest.endswith(".amazon.manifest")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        estimator.fit(records, mini_batch_size=100, wait=True, logs=True)

    description = session.describe_training_job(estimator.latest_training_job.name)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert description["HyperParameters"]["force_dense"] == "True"
    channel = description["InputDataConfig"][0]
    assert channel["DataSource"]["S3DataSource"]["S3DataType"] == "ManifestFile"
    assert channel["DataSource"]["S3DataSource"]["S3DataDistributionType"] == "ShardedByS3Key"
    assert "#quality_metric: host=algo-1, test msd <loss>=" in printed.getvalue()

    metrics = {item["MetricName"]: item["Value"] for item in description["FinalMetricDataList"]}
    reference = KMeans(3, n_init=10, random_state=0).fit(train)
    reference_msd = float(np.mean(np.min(reference.transform(test), axis=1) ** 2))
    assert set(metrics) == {"test:msd", "test:ssd"}
    assert metrics["test:msd"] <= 1.02 * reference_msd
    assert metrics["test:ssd"] == pytest.approx(100 * metrics["test:msd"], rel=1e-4)

    # The model answers the SDK's own RecordIO serializer, and its answer reads back with the
    # SDK's deserializer, as KMeansPredictor would send and read them.
    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    request = RecordSerializer().serialize(test).getvalue()
    body, content_type = predictor.invoke(request, "application/x-recordio-protobuf", "application/x-recordio-protobuf")
    answers = RecordDeserializer().deserialize(io.BytesIO(body), content_type)
    assert len(answers) == 100
    distances = np.array([answer.label["distance_to_cluster"].float32_tensor.values[0] for answer in answers])
    assert float(np.mean(distances**2)) == pytest.approx(metrics["test:msd"], rel=1e-4)
