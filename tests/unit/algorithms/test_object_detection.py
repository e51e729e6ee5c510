"""Object Detection: mAP on held-out synthetic shapes, the inference handler, mAP and
non-maximum suppression themselves, checks of annotations and settings, and the job without
PyTorch."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from shipyard.algorithms.errors import AlgorithmError, InferenceError
from shipyard.algorithms.object_detection import ALGORITHM, serve
from shipyard.algorithms.object_detection.evaluation import mean_average_precision
from shipyard.algorithms.object_detection.model import non_maximum_suppression
from shipyard.algorithms.object_detection.train import fit
from shipyard.testing.algorithms import (
    ChannelData,
    channel_at,
    fit_in_process,
    logged_metrics,
    run_container_without_torch,
)
from shipyard.testing.vision import encode, shapes, shapes_files

SIDE = 48
#: Training that reaches the quality bar in a few seconds on one core.
SHAPES = {
    "num_classes": 2,
    "num_training_samples": 160,
    "image_shape": SIDE,
    "epochs": 8,
    "mini_batch_size": 8,
    "optimizer": "adam",
    "learning_rate": 0.002,
}


@dataclass
class Job:
    """An in-process training's model directory and log lines."""

    model_dir: Path
    lines: list[str]


def train(root: Path, hyperparameters: dict, data: dict[str, dict[str, bytes]], content_type: str = "image/png") -> Job:
    """Run ``fit`` on channels of ``data`` (name -> files) under ``root``."""
    found = [channel_at(root, name, files, content_type) for name, files in data.items()]
    return Job(root / "model", fit_in_process(ALGORITHM, fit, root, found, hyperparameters))


def channels(train: list, validation: list | None = None, image_format: str = "PNG") -> dict[str, dict[str, bytes]]:
    """The four channels of the image format for these images."""
    images, annotations = shapes_files(train, image_formats=[image_format])
    found = {"train": images, "train_annotation": annotations}
    if validation is not None:
        images, annotations = shapes_files(validation, image_formats=[image_format])
        found |= {"validation": images, "validation_annotation": annotations}
    return found


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Job:
    return train(tmp_path_factory.mktemp("shapes"), SHAPES, channels(shapes(160, side=SIDE, seed=1), shapes(40, side=SIDE, seed=2)))


def metric(job: Job, name: str) -> float:
    """The last value of a declared metric in the job's log, as SageMaker would read it."""
    return logged_metrics(ALGORITHM, job.lines)[name]


def detect(job: Job, pixels: np.ndarray, content_type: str = "image/png", accept: str | None = None) -> tuple[object, str]:
    body, response_type = serve.load(job.model_dir).invoke(encode(pixels, "JPEG" if content_type == "image/jpeg" else "PNG"), content_type, accept)
    return json.loads(body), response_type


def test_held_out_map_reaches_the_bar(trained: Job) -> None:
    predictor = serve.load(trained.model_dir)
    held_out = shapes(100, side=SIDE, seed=3)
    detections = [
        np.array(json.loads(predictor.invoke(encode(image.pixels), "image/png", "application/json")[0])["prediction"]).reshape(-1, 6)
        for image in held_out
    ]
    score = mean_average_precision(detections, [image.truth() for image in held_out], num_classes=2, threshold=0.5)
    assert score >= 0.5
    assert metric(trained, "validation:mAP") >= 0.5


def test_log_has_every_declared_metric(trained: Job) -> None:
    assert metric(trained, "train:progress") == 100
    assert 0 < metric(trained, "train:cross_entropy") < 5
    assert 0 < metric(trained, "train:smooth_l1") < 5
    assert metric(trained, "train:throughput") > 0
    assert 0 < metric(trained, "validation:mAP") <= 1
    losses = [float(line.rsplit("=", 1)[1]) for line in trained.lines if "train cross_entropy" in line]
    assert losses[-1] < losses[0]


def test_model_directory_holds_weights_and_architecture(trained: Job) -> None:
    config = json.loads((trained.model_dir / "object-detection.json").read_text())
    assert config == {"num_classes": 2, "base_network": "vgg-16", "image_shape": SIDE, "nms_threshold": 0.45}
    assert (trained.model_dir / "object-detection.pt").is_file()


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/x-image"])
def test_handler_answers_normalised_detections(trained: Job, content_type: str) -> None:
    image = shapes(1, side=SIDE, seed=4)[0]
    answer, response_type = detect(trained, image.pixels, content_type)
    assert response_type == "application/json"
    rows = np.array(answer["prediction"])
    assert rows.shape[1] == 6
    assert set(rows[:, 0]) <= {0.0, 1.0}
    assert np.all(np.diff(rows[:, 1]) <= 0)
    assert np.all((rows[:, 2:] >= 0) & (rows[:, 2:] <= 1))
    assert np.all(rows[:, 4] >= rows[:, 2]) and np.all(rows[:, 5] >= rows[:, 3])
    lines, response_type = detect(trained, image.pixels, content_type, "application/jsonlines")
    assert response_type == "application/jsonlines"
    assert lines == answer


def test_handler_finds_the_objects_of_a_larger_image(trained: Job) -> None:
    # The same scene at twice the size: boxes are normalised, so they match the small one's.
    image = shapes(1, side=SIDE, seed=5)[0]
    big = np.kron(image.pixels, np.ones((2, 2, 1), dtype=np.uint8))
    answer, _ = detect(trained, big)
    rows = np.array(answer["prediction"]).reshape(-1, 6)
    assert mean_average_precision([rows], [image.truth()], num_classes=2) >= 0.5


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status"),
    [
        (b"{}", "application/json", None, 415),
        (None, "image/png", "text/csv", 406),
        (b"\x89PNG broken", "image/png", None, 400),
    ],
    ids=["json-request", "csv-accept", "garbage"],
)
def test_handler_refuses_what_it_cannot_serve(trained: Job, body: bytes | None, content_type: str, accept: str | None, status: int) -> None:
    with pytest.raises(InferenceError) as raised:
        serve.load(trained.model_dir).invoke(encode(shapes(1)[0].pixels) if body is None else body, content_type, accept)
    assert raised.value.status == status


def rows(*boxes: list[float]) -> np.ndarray:
    return np.array(boxes, dtype=np.float64) if boxes else np.zeros((0, 6))


def test_mean_average_precision_follows_voc() -> None:
    truth = [rows([0, 0.1, 0.1, 0.4, 0.4], [1, 0.5, 0.5, 0.9, 0.9])]
    perfect = [rows([0, 0.9, 0.1, 0.1, 0.4, 0.4], [1, 0.8, 0.5, 0.5, 0.9, 0.9])]
    assert mean_average_precision(perfect, truth, 2) == pytest.approx(1.0)
    # A false positive ranked above the true one: precision 1/2 at full recall.
    spurious = [rows([0, 0.95, 0.6, 0.0, 0.9, 0.3], [0, 0.9, 0.1, 0.1, 0.4, 0.4], [1, 0.8, 0.5, 0.5, 0.9, 0.9])]
    assert mean_average_precision(spurious, truth, 2) == pytest.approx(0.75)
    # Class 0's object called class 1: class 0 finds nothing, class 1 ranks a false positive first.
    confused = [rows([1, 0.9, 0.1, 0.1, 0.4, 0.4], [1, 0.8, 0.5, 0.5, 0.9, 0.9])]
    assert mean_average_precision(confused, truth, 2) == pytest.approx((0 + 0.5) / 2)
    # A box shifted to IoU 0.6 matches at 0.5, not at 0.7.
    shifted = [rows([0, 0.9, 0.1, 0.1, 0.4, 0.4 + 0.3 * (1 / 0.6 - 1)])]
    assert mean_average_precision(shifted, truth[:1], 1, threshold=0.5) == pytest.approx(1.0)
    assert mean_average_precision(shifted, truth[:1], 1, threshold=0.7) == 0.0
    # A second detection of a matched object is a false positive; classes without truth are skipped.
    twice = [rows([0, 0.9, 0.1, 0.1, 0.4, 0.4], [0, 0.8, 0.1, 0.1, 0.4, 0.4])]
    assert mean_average_precision(twice, [rows([0, 0.1, 0.1, 0.4, 0.4])], 3) == pytest.approx(1.0)
    assert mean_average_precision([rows()], [rows()], 2) == 0.0


def test_non_maximum_suppression_is_per_class() -> None:
    boxes = torch.tensor([[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.52, 0.5], [0.1, 0.1, 0.5, 0.5], [0.6, 0.6, 0.9, 0.9]])
    scores = torch.tensor([0.8, 0.9, 0.7, 0.6])
    labels = torch.tensor([0, 0, 1, 0])
    assert non_maximum_suppression(boxes, scores, labels, 0.45).tolist() == [1, 2, 3]
    assert non_maximum_suppression(boxes, scores, labels, 0.99).tolist() == [1, 0, 2, 3]


SMALL = {"num_classes": 2, "num_training_samples": 8, "image_shape": 32, "epochs": 1, "mini_batch_size": 4}


def annotated(document: dict, images: dict[str, bytes] | None = None) -> dict[str, dict[str, bytes]]:
    """One training image whose annotation file is ``document`` (over a valid one)."""
    image = shapes(1, side=32)[0]
    files, annotations = shapes_files([image])
    base = json.loads(annotations["0.json"])
    return {"train": images if images is not None else files, "train_annotation": {"0.json": json.dumps({**base, **document}).encode()}}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (annotated({"annotations": [{"class_id": 2, "left": 1, "top": 1, "width": 5, "height": 5}]}), r"class_id 2 is not in \[0, num_classes=2\)"),
        (annotated({"annotations": [{"class_id": 0, "left": 1, "top": 1, "width": 0, "height": 5}]}), "width and height must be positive"),
        (annotated({"annotations": [{"class_id": 0, "left": 40, "top": 1, "width": 5, "height": 5}]}), "outside the 32x32 image"),
        (annotated({"annotations": [{"class_id": 0, "left": "x", "top": 1, "width": 5, "height": 5}]}), "needs numeric class_id"),
        (annotated({"file": "shapes/missing.png"}), "'shapes/missing.png', which is not in the train channel"),
        (annotated({"image_size": [{"width": 0, "height": 32}]}), "image_size must be positive"),
        (annotated({}, {"shapes/0.png": b"not a png"}), "Cannot read image 0.png"),
        ({"train": {}, "train_annotation": {"0.json": b"{not json"}}, "0.json is not valid JSON"),
        ({"train": {}, "train_annotation": {"0.json": b"[]"}}, "must be an object with the image's path"),
        ({"train": {}, "train_annotation": {}}, "train_annotation channel holds no .json annotation file"),
        ({**annotated({}), "validation": annotated({})["train"]}, "needs both the validation and validation_annotation"),
    ],
    ids=["class-range", "zero-width", "outside", "non-numeric", "missing-image", "image-size", "corrupt-image", "bad-json", "not-object", "no-annotations", "half-validation"],
)
def test_bad_annotations_are_client_errors(tmp_path: Path, data: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        train(tmp_path, SMALL, data)


@pytest.mark.parametrize(
    ("hyperparameters", "reason"),
    [
        ({"lr_scheduler_step": "5,2"}, "lr_scheduler_step"),
        ({"freeze_layer_pattern": "(conv"}, "freeze_layer_pattern"),
        ({"early_stopping": "True"}, "early_stopping needs the validation"),
    ],
)
def test_invalid_settings_are_client_errors(tmp_path: Path, hyperparameters: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        train(tmp_path, {**SMALL, **hyperparameters}, channels(shapes(8, side=32)))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"num_classes": "2"}, "Missing required hyperparameter.*num_training_samples"),
        ({"num_classes": "2", "num_training_samples": "8", "base_network": "mobilenet"}, "base_network"),
        ({"num_classes": "2", "num_training_samples": "8", "learning_rate": "0"}, "learning_rate"),
        ({"num_classes": "2", "num_training_samples": "8", "nms_threshold": "1.5"}, "nms_threshold"),
        ({"num_classes": "2", "num_training_samples": "8", "image_shape": "8"}, "image_shape"),
    ],
)
def test_hyperparameters_are_checked_by_the_declaration(raw: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        ALGORITHM.parse_hyperparameters(raw)


@pytest.mark.parametrize(
    "settings",
    [
        {"base_network": "resnet-50", "optimizer": "sgd", "lr_scheduler_step": "1", "freeze_layer_pattern": "^0\\."},
        {"optimizer": "rmsprop", "use_pretrained_model": 0},
        {"optimizer": "adadelta", "learning_rate": 1, "early_stopping": "True", "early_stopping_min_epochs": 1, "early_stopping_patience": 1},
    ],
    ids=["resnet-sgd-frozen", "rmsprop", "adadelta-early-stopping"],
)
def test_networks_and_optimizers_train(tmp_path: Path, settings: dict) -> None:
    data = channels(shapes(8, side=32, seed=6), shapes(4, side=32, seed=7), image_format="JPEG")
    job = train(tmp_path, {**SMALL, "epochs": 2, **settings}, data, content_type="image/jpeg")
    assert 1 <= len([line for line in job.lines if "validation mAP <score>" in line]) <= 2
    if "freeze_layer_pattern" in settings:
        assert any(re.fullmatch(r"freeze_layer_pattern froze [1-9]\d* backbone parameter tensors", line) for line in job.lines)
    answer, _ = detect(job, shapes(1, side=32)[0].pixels)
    assert isinstance(answer["prediction"], list)


def test_job_without_torch_fails_with_the_install_hint(tmp_path: Path) -> None:
    channels = {name: ChannelData({}, "image/png") for name in ("train", "train_annotation")}
    code, failure = run_container_without_torch(
        "object_detection", tmp_path, {"num_classes": 2, "num_training_samples": 1}, channels
    )
    assert code != 0
    assert failure == "ClientError: install shipyard[deep] to use object-detection"