"""Object Detection through CreateTrainingJob: image and JSON annotation channels in each
image content type, SageMaker's metrics, the model behind the inference handler, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shipyard.algorithms.object_detection import serve
from shipyard.algorithms.object_detection.evaluation import mean_average_precision
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    download_model,
    final_metrics,
    train_builtin,
)
from shipyard.testing.vision import ShapesImage, encode, shapes, shapes_files

SIDE = 48
HYPERPARAMETERS = {
    "num_classes": 2,
    "num_training_samples": 80,
    "image_shape": SIDE,
    "epochs": 6,
    "mini_batch_size": 8,
    "optimizer": "adam",
    "learning_rate": 0.002,
}
# Few images: each is an S3 object to upload and fetch. The quality bar is a unit test's.
TRAIN, VALIDATION = shapes(80, side=SIDE, seed=11), shapes(20, side=SIDE, seed=12)
METRICS = {"train:progress", "train:smooth_l1", "train:cross_entropy", "train:throughput", "validation:mAP"}


def image_channels(
    content_type: str, train: list[ShapesImage], validation: list[ShapesImage] | None, image_formats: tuple[str, ...] = ("PNG",)
) -> dict[str, ChannelData]:
    """train, train_annotation (and validation, validation_annotation), all in ``content_type``."""
    channels = {}
    for split, images in (("train", train), ("validation", validation)):
        if images is not None:
            files, annotations = shapes_files(images, image_formats=image_formats)
            channels[split] = ChannelData(files, content_type)
            channels[f"{split}_annotation"] = ChannelData(annotations, content_type)
    return channels


def test_training_reports_map_and_serves_the_model(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path) -> None:
    # application/x-image: JPEG and PNG files side by side.
    channels = image_channels("application/x-image", TRAIN, VALIDATION, ("JPEG", "PNG"))
    description = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "object-detection", HYPERPARAMETERS, channels)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == METRICS
    assert metrics["train:progress"] == 100
    assert 0 < metrics["validation:mAP"] <= 1

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    detections = []
    for image_file in channels["validation"].files.values():
        body, response_type = predictor.invoke(image_file, "application/x-image", "application/json")
        assert response_type == "application/json"
        detections.append(np.array(json.loads(body)["prediction"]).reshape(-1, 6))
    # The handler finds what training validated (the best epoch's mAP is the one kept).
    found = mean_average_precision(detections, [image.truth() for image in VALIDATION], 2, 0.5)
    assert found >= metrics["validation:mAP"] - 0.02
    line, response_type = predictor.invoke(encode(VALIDATION[0].pixels, "JPEG"), "image/jpeg", "application/jsonlines")
    assert response_type == "application/jsonlines"
    assert isinstance(json.loads(line)["prediction"], list)


@pytest.mark.parametrize(("content_type", "image_format"), [("image/png", "PNG"), ("image/jpeg", "JPEG")], ids=["png", "jpeg"])
def test_png_and_jpeg_channels_train(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, content_type: str, image_format: str) -> None:
    hyperparameters = {**HYPERPARAMETERS, "num_training_samples": 16, "epochs": 1}
    channels = image_channels(content_type, TRAIN[:16], VALIDATION[:8], (image_format,))
    description = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "object-detection", hyperparameters, channels)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert set(final_metrics(description)) == METRICS


#: Four training images, for jobs that fail before training.
TINY = image_channels("image/png", TRAIN[:4], None)


def _annotation(**changes: object) -> dict[str, ChannelData]:
    """TINY with the first annotation file's fields changed."""
    files = dict(TINY["train_annotation"].files)
    files["0.json"] = json.dumps({**json.loads(files["0.json"]), **changes}).encode()
    return {**TINY, "train_annotation": ChannelData(files, "image/png")}


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (
            HYPERPARAMETERS,
            {"train": ChannelData({"train.rec": b"\x00" * 16}, "application/x-recordio")},
            "application/x-recordio.*not supported",
        ),
        (HYPERPARAMETERS, {"train": TINY["train"]}, "needs the channel.*train_annotation"),
        (
            HYPERPARAMETERS,
            _annotation(annotations=[{"class_id": 5, "left": 1, "top": 1, "width": 9, "height": 9}]),
            r"class_id 5 is not in \[0, num_classes=2\)",
        ),
        (HYPERPARAMETERS, _annotation(file="shapes/elsewhere.png"), "'shapes/elsewhere.png', which is not in the train channel"),
        ({**HYPERPARAMETERS, "base_network": "inception"}, TINY, "base_network"),
        ({"num_classes": 2}, TINY, "hyperparameter.*num_training_samples"),
    ],
    ids=["recordio", "no-annotation-channel", "class-range", "missing-image", "bad-base-network", "no-num-training-samples"],
)
def test_bad_input_fails_with_a_client_error(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, hyperparameters: dict, channels: dict, reason: str
) -> None:
    assert_client_error(train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "object-detection", hyperparameters, channels), reason)
