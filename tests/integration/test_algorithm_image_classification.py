"""Image Classification through CreateTrainingJob: image and .lst channels in each image
content type, the accuracy metrics, the model behind the inference handler, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shipyard.algorithms.image_classification import serve
from shipyard.testing import RunningServer
from shipyard.testing.algorithms import (
    ChannelData,
    assert_client_error,
    download_model,
    final_metrics,
    train_builtin,
)
from shipyard.testing.vision import digits, digits_files, encode

HYPERPARAMETERS = {
    "num_classes": 10,
    "num_training_samples": 120,
    "image_shape": "3,8,8",
    "num_layers": 20,
    "epochs": 8,
    "mini_batch_size": 16,
}
ORDER = np.random.default_rng(1).permutation(len(digits()[1]))
# Few images: each is an S3 object to upload and fetch. Accuracy at full size is a unit test's.
TRAIN, VALIDATION = ORDER[:120], ORDER[120:160]


def image_channels(
    content_type: str, image_format: str = "PNG", train: np.ndarray = TRAIN, validation: np.ndarray | None = VALIDATION
) -> dict[str, ChannelData]:
    """train, train_lst (and validation, validation_lst) for these digits, all in ``content_type``."""
    channels = {}
    for split, indices in (("train", train), ("validation", validation)):
        if indices is None:
            continue
        files, lst = digits_files(indices, image_format=image_format)
        channels[split] = ChannelData(files, content_type)
        channels[f"{split}_lst"] = ChannelData({f"{split}.lst": lst}, content_type)
    return channels


def test_training_reports_accuracy_and_serves_the_model(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, tmp_path: Path) -> None:
    description = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "image-classification", HYPERPARAMETERS, image_channels("application/x-image"))
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    metrics = final_metrics(description)
    assert set(metrics) == {"train:accuracy", "train:accuracy:epoch", "validation:accuracy", "validation:accuracy:epoch"}
    assert metrics["validation:accuracy"] >= 0.6
    assert metrics["validation:accuracy:epoch"] == metrics["validation:accuracy"]

    predictor = serve.load(download_model(sqlite_server, description, tmp_path / "model"))
    pixels, labels = digits()
    hits = 0
    for index in VALIDATION:
        body, response_type = predictor.invoke(encode(pixels[index]), "image/png", "application/json")
        assert response_type == "application/json"
        hits += int(np.argmax(json.loads(body)) == labels[index])
    # The model kept is the epoch with the best validation accuracy, which the last line reported or beat.
    assert hits / len(VALIDATION) >= metrics["validation:accuracy"] - 1 / len(VALIDATION)
    line, response_type = predictor.invoke(encode(pixels[VALIDATION[0]], "JPEG"), "image/jpeg", "application/jsonlines")
    assert response_type == "application/jsonlines"
    assert len(json.loads(line)["prediction"]) == 10


@pytest.mark.parametrize(("content_type", "image_format"), [("image/png", "PNG"), ("image/jpeg", "JPEG")], ids=["png", "jpeg"])
def test_png_and_jpeg_channels_train(sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, content_type: str, image_format: str) -> None:
    hyperparameters = {**HYPERPARAMETERS, "num_training_samples": 20, "epochs": 1}
    channels = image_channels(content_type, image_format, TRAIN[:20], VALIDATION[:10])
    description = train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "image-classification", hyperparameters, channels)
    assert description["TrainingJobStatus"] == "Completed", description.get("FailureReason")
    assert 0 <= final_metrics(description)["validation:accuracy"] <= 1


#: Four training images, for jobs that fail before training.
TINY = image_channels("application/x-image", train=TRAIN[:4], validation=None)


def _with(channel: str, data: ChannelData) -> dict[str, ChannelData]:
    return {**TINY, channel: data}


@pytest.mark.parametrize(
    ("hyperparameters", "channels", "reason"),
    [
        (
            HYPERPARAMETERS,
            {"train": ChannelData({"train.rec": b"\x00" * 16}, "application/x-recordio")},
            "application/x-recordio.*not supported",
        ),
        (HYPERPARAMETERS, {"train": TINY["train"]}, "needs the channel.*train_lst"),
        (
            HYPERPARAMETERS,
            _with("train_lst", ChannelData({"train.lst": b"0\t12\tdigits/%d.png\n" % TRAIN[0]}, "application/x-image")),
            r"label 12 is not a class index",
        ),
        (
            HYPERPARAMETERS,
            _with("train_lst", ChannelData({"train.lst": b"0\t1\tdigits/nowhere.png\n"}, "application/x-image")),
            "digits/nowhere.png', which is not in the train channel",
        ),
        ({**HYPERPARAMETERS, "num_layers": 50}, TINY, "num_layers.*20, 32, 44, 56, 110"),
        ({"num_training_samples": 4}, TINY, "hyperparameter.*num_classes"),
    ],
    ids=["recordio", "no-lst-channel", "label-range", "missing-image", "bad-num-layers", "no-num-classes"],
)
def test_bad_input_fails_with_a_client_error(
    sqlite_server: RunningServer, algorithm_bucket: str, algorithm_role: str, hyperparameters: dict, channels: dict, reason: str
) -> None:
    assert_client_error(train_builtin(sqlite_server, algorithm_bucket, algorithm_role, "image-classification", hyperparameters, channels), reason)
