"""Image Classification: accuracy on scikit-learn's digits, the inference handler, checks of
hyperparameters and ``.lst`` data, augmentations, and the job without PyTorch."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from shipyard.algorithms.errors import AlgorithmError, InferenceError
from shipyard.algorithms.image_classification import ALGORITHM, serve
from shipyard.algorithms.image_classification.dataset import Shape, prepare
from shipyard.algorithms.image_classification.model import Bottleneck, ResNet, augment
from shipyard.algorithms.image_classification.train import fit
from shipyard.algorithms.vision.training import EarlyStopping
from shipyard.testing.algorithms import (
    ChannelData,
    channel_at,
    fit_in_process,
    logged_metrics,
    run_container_without_torch,
)
from shipyard.testing.vision import digits, digits_files, encode

#: Training that reaches the quality bar in a few seconds on one core.
DIGITS = {
    "num_classes": 10,
    "num_training_samples": 1200,
    "image_shape": "3,8,8",
    "num_layers": 20,
    "epochs": 3,
    "mini_batch_size": 16,
    "learning_rate": 0.05,
    "top_k": 3,
    "checkpoint_frequency": 3,
}
ORDER = np.random.default_rng(0).permutation(len(digits()[1]))
TRAIN, HELD_OUT = ORDER[:1200], ORDER[1200:]


@dataclass
class Job:
    """An in-process training's model directory and log lines."""

    model_dir: Path
    lines: list[str]


def train(root: Path, hyperparameters: dict, data: dict[str, dict[str, bytes]], content_type: str = "application/x-image") -> Job:
    """Run ``fit`` on channels of ``data`` (name -> files) under ``root``."""
    found = [channel_at(root, name, files, content_type) for name, files in data.items()]
    return Job(root / "model", fit_in_process(ALGORITHM, fit, root, found, hyperparameters))


def channels(train: np.ndarray, validation: np.ndarray | None = None) -> dict[str, dict[str, bytes]]:
    """The four channels of the image format for the digits at these indices."""
    images, lst = digits_files(train)
    found = {"train": images, "train_lst": {"train.lst": lst}}
    if validation is not None:
        images, lst = digits_files(validation)
        found |= {"validation": images, "validation_lst": {"validation.lst": lst}}
    return found


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Job:
    return train(tmp_path_factory.mktemp("digits"), DIGITS, channels(TRAIN, HELD_OUT))


def metric(job: Job, name: str) -> float:
    """The last value of a declared metric in the job's log, as SageMaker would read it."""
    return logged_metrics(ALGORITHM, job.lines)[name]


def classify(job: Job, pixels: np.ndarray, content_type: str = "image/png", accept: str = "application/json") -> list[float]:
    predictor = serve.load(job.model_dir)
    body, response_type = predictor.invoke(encode(pixels), content_type, accept)
    assert response_type == accept
    return json.loads(body)


def test_digits_accuracy_reaches_the_bar(trained: Job) -> None:
    pixels, labels = digits()
    predictor = serve.load(trained.model_dir)
    predictions = [int(np.argmax(json.loads(predictor.invoke(encode(pixels[index]), "image/png", "application/json")[0]))) for index in HELD_OUT]
    accuracy = float(np.mean(np.array(predictions) == labels[HELD_OUT]))
    assert accuracy >= 0.9
    # The handler sees what training validated on: the same accuracy.
    assert metric(trained, "validation:accuracy") == pytest.approx(accuracy, abs=2 / len(HELD_OUT))


def test_log_has_every_declared_metric_and_top_k(trained: Job) -> None:
    for name in ("train:accuracy", "train:accuracy:epoch", "validation:accuracy", "validation:accuracy:epoch"):
        assert 0.5 < metric(trained, name) <= 1
    assert any(re.fullmatch(r"Epoch\[2\] Validation-top_k_accuracy_3=(\S+)", line) for line in trained.lines)
    top3 = [float(line.split("=")[1]) for line in trained.lines if "Validation-top_k_accuracy_3" in line]
    assert top3[-1] >= metric(trained, "validation:accuracy")


def test_model_directory_holds_weights_architecture_and_checkpoints(trained: Job) -> None:
    config = json.loads((trained.model_dir / "image-classification.json").read_text())
    assert config == {"num_classes": 10, "num_layers": 20, "image_shape": [3, 8, 8], "resize": None, "multi_label": False, "epoch": config["epoch"]}
    assert 1 <= config["epoch"] <= 3
    assert sorted(path.name for path in trained.model_dir.glob("*.pt")) == ["image-classification-0003.pt", "image-classification.pt"]


@pytest.mark.parametrize("content_type", ["image/png", "image/jpeg", "application/x-image"])
def test_handler_answers_probabilities_for_each_image_type(trained: Job, content_type: str) -> None:
    pixels, _ = digits()
    image = np.repeat(pixels[HELD_OUT[0]][:, :, None], 3, axis=2)
    body = encode(image, "JPEG" if content_type == "image/jpeg" else "PNG")
    predictor = serve.load(trained.model_dir)
    answer, response_type = predictor.invoke(body, content_type, None)
    assert response_type == "application/json"
    probabilities = json.loads(answer)
    assert len(probabilities) == 10
    assert sum(probabilities) == pytest.approx(1, abs=1e-5)
    lines, response_type = predictor.invoke(body, content_type, "application/jsonlines")
    assert response_type == "application/jsonlines"
    assert json.loads(lines) == {"prediction": pytest.approx(probabilities)}
    assert lines.endswith(b"\n")


def test_handler_scales_larger_images_to_the_input(trained: Job) -> None:
    pixels, _ = digits()
    index = HELD_OUT[1]
    big = np.kron(pixels[index], np.ones((4, 4), dtype=np.uint8))
    assert len(classify(trained, big)) == 10


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status"),
    [
        (b"1,2,3\n", "text/csv", None, 415),
        (None, "image/png", "text/csv", 406),
        (b"not an image", "image/png", None, 400),
        (b"", "image/jpeg", None, 400),
    ],
    ids=["csv-request", "csv-accept", "garbage", "empty"],
)
def test_handler_refuses_what_it_cannot_serve(trained: Job, body: bytes | None, content_type: str, accept: str | None, status: int) -> None:
    pixels, _ = digits()
    with pytest.raises(InferenceError) as raised:
        serve.load(trained.model_dir).invoke(encode(pixels[0]) if body is None else body, content_type, accept)
    assert raised.value.status == status


SMALL = {"num_classes": 10, "num_training_samples": 40, "image_shape": "3,8,8", "num_layers": 20, "epochs": 1, "mini_batch_size": 8}


@pytest.mark.parametrize(
    ("hyperparameters", "reason"),
    [
        ({"image_shape": "224,224"}, "image_shape"),
        ({"image_shape": "2,8,8"}, "image_shape"),
        ({"num_layers": 18}, "num_layers.*20, 32, 44, 56, 110"),
        ({"top_k": 11}, "top_k.*num_classes"),
        ({"checkpoint_frequency": 2}, "checkpoint_frequency.*epochs"),
        ({"lr_scheduler_step": "a,b"}, "lr_scheduler_step"),
        ({"early_stopping": "true"}, "early_stopping needs the validation"),
    ],
)
def test_invalid_settings_are_client_errors(tmp_path: Path, hyperparameters: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        train(tmp_path, {**SMALL, **hyperparameters}, channels(TRAIN[:40]))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"num_training_samples": "10"}, "Missing required hyperparameter.*num_classes"),
        ({"num_classes": "10", "num_training_samples": "10", "optimizer": "lbfgs"}, "optimizer"),
        ({"num_classes": "10", "num_training_samples": "10", "augmentation_type": "mixup"}, "augmentation_type"),
        ({"num_classes": "10", "num_training_samples": "10", "top_k": "1"}, "top_k"),
        ({"num_classes": "10", "num_training_samples": "10", "multi_label": "2"}, "multi_label"),
    ],
)
def test_hyperparameters_are_checked_by_the_declaration(raw: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        ALGORITHM.parse_hyperparameters(raw)


def _lst_channels(lst: bytes, images: dict[str, bytes] | None = None) -> dict[str, dict[str, bytes]]:
    found = channels(TRAIN[:40])
    found["train_lst"] = {"train.lst": lst}
    if images is not None:
        found["train"] = images
    return found


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_lst_channels(b"0\t10\tdigits/%d.png\n" % TRAIN[0]), r"label 10 is not a class index in \[0, num_classes=10\)"),
        (_lst_channels(b"0\tdigits/%d.png\n" % TRAIN[0]), "expected 3 tab-separated columns"),
        (_lst_channels(b"0\t1\tdigits/missing.png\n"), "'digits/missing.png', which is not in the train channel"),
        (_lst_channels(b"0\t1\t../outside.png\n"), "outside the train channel"),
        (_lst_channels(b"0\tone\tdigits/%d.png\n" % TRAIN[0]), "must be numbers"),
        (_lst_channels(b"0\t1\tdigits/%d.png\n0\t2\tdigits/%d.png\n" % (TRAIN[0], TRAIN[1])), "index 0 is not unique"),
        (_lst_channels(b"0\t1\tbad.png\n", {"bad.png": b"not a png"}), "Cannot read image bad.png"),
        ({"train": channels(TRAIN[:4])["train"], "train_lst": {}}, "train_lst channel holds no .lst file"),
        ({**channels(TRAIN[:4]), "validation": channels(TRAIN[:4])["train"]}, "needs both the validation and validation_lst"),
    ],
    ids=["label-range", "columns", "missing-image", "outside", "non-numeric", "duplicate-index", "corrupt-image", "no-lst", "half-validation"],
)
def test_bad_lst_data_is_a_client_error(tmp_path: Path, data: dict, reason: str) -> None:
    with pytest.raises(AlgorithmError, match=reason):
        train(tmp_path, SMALL, data)


@pytest.mark.parametrize(
    "settings",
    [
        {"optimizer": "nag", "augmentation_type": "crop", "lr_scheduler_step": "1", "use_pretrained_model": 1},
        {"optimizer": "adam", "augmentation_type": "crop_color", "precision_dtype": "float16", "image_shape": "1,8,8"},
        {"optimizer": "rmsprop", "augmentation_type": "crop_color_transform", "resize": 10},
    ],
    ids=["nag-crop", "adam-crop-color-grey", "rmsprop-transform"],
)
def test_optimizers_and_augmentations_train(tmp_path: Path, settings: dict) -> None:
    job = train(tmp_path, {**SMALL, "epochs": 2, **settings}, channels(TRAIN[:40], HELD_OUT[:20]))
    assert len([line for line in job.lines if "Validation-accuracy=" in line]) == 2
    pixels, _ = digits()
    probabilities = classify(job, pixels[HELD_OUT[0]])
    assert len(probabilities) == 10 and sum(probabilities) == pytest.approx(1, abs=1e-5)
    if settings.get("use_pretrained_model"):
        assert any("training from scratch" in line for line in job.lines)


def test_multi_label_learns_each_class_independently(tmp_path: Path) -> None:
    pixels, labels = digits()
    indices = TRAIN[:400]
    files, _ = digits_files(indices)
    # Two labels per digit: "even" and "at least five".
    hot = np.column_stack([labels % 2 == 0, labels >= 5]).astype(int)
    lst = "".join(f"{index}\t{hot[index][0]}\t{hot[index][1]}\tdigits/{index}.png\n" for index in indices).encode()
    test_files, _ = digits_files(HELD_OUT[:200])
    test_lst = "".join(f"{index}\t{hot[index][0]}\t{hot[index][1]}\tdigits/{index}.png\n" for index in HELD_OUT[:200]).encode()
    settings = {**SMALL, "num_classes": 2, "num_training_samples": 400, "multi_label": 1, "use_weighted_loss": 1, "epochs": 4, "mini_batch_size": 16}
    data = {"train": files, "train_lst": {"a.lst": lst}, "validation": test_files, "validation_lst": {"b.lst": test_lst}}
    job = train(tmp_path, settings, data)
    assert metric(job, "validation:accuracy") >= 0.75
    probabilities = classify(job, pixels[HELD_OUT[0]])
    assert len(probabilities) == 2 and all(0 < value < 1 for value in probabilities)


def test_multi_label_lst_needs_one_column_per_class(tmp_path: Path) -> None:
    with pytest.raises(AlgorithmError, match="expected 5 tab-separated columns"):
        train(tmp_path, {**SMALL, "num_classes": 3, "multi_label": 1}, _lst_channels(b"0\t1\t0\tdigits/1.png\n"))


def test_early_stopping_stops_after_patience_epochs(tmp_path: Path) -> None:
    stopping = EarlyStopping(min_epochs=3, patience=2, tolerance=0.1)
    # 0.5 -> 0.52 is under 10% better: no improvement; the stop waits for min_epochs.
    assert [stopping.should_stop(epoch, score) for epoch, score in enumerate([0.5, 0.52, 0.53, 0.9, 0.91, 0.92])] == [
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    settings = {**SMALL, "epochs": 6, "early_stopping": "True", "early_stopping_min_epochs": 1, "early_stopping_patience": 1, "early_stopping_tolerance": 1}
    job = train(tmp_path, settings, channels(TRAIN[:40], HELD_OUT[:20]))
    assert len([line for line in job.lines if "Validation-accuracy=" in line]) == 2
    assert any(line.startswith("Early stopping after epoch 1") for line in job.lines)


def test_prepare_crops_large_images_and_scales_small_ones() -> None:
    shape = Shape(3, 4, 4)
    image = np.arange(8 * 6 * 3, dtype=np.uint8).reshape(8, 6, 3)
    assert np.array_equal(prepare(image, shape, None), image[2:6, 1:5])
    assert prepare(image[:2, :2], shape, None).shape == (4, 4, 3)
    # resize=4 scales the shorter side (6) to 4, then the center is cropped.
    assert prepare(image, shape, 4).shape == (4, 4, 3)


def test_augmentations_keep_shape_and_range() -> None:
    generator = torch.Generator().manual_seed(1)
    batch = torch.rand(4, 3, 16, 16, generator=generator)
    for kind in ("crop", "crop_color", "crop_color_transform"):
        augmented = augment(batch, kind, generator)
        assert augmented.shape == batch.shape
        assert augmented.min() >= 0 and augmented.max() <= 1
        assert not torch.equal(augmented, batch)
    assert augment(batch, None, generator) is batch
    grey = torch.rand(2, 1, 8, 8, generator=generator)
    assert augment(grey, "crop_color", generator).shape == grey.shape


@pytest.mark.parametrize(("layers", "bottleneck"), [(18, False), (50, True)])
def test_large_images_use_the_imagenet_resnet(layers: int, bottleneck: bool) -> None:
    net = ResNet(layers, Shape(3, 64, 64), 5).eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, 64, 64)).shape == (2, 5)
    assert any(isinstance(module, Bottleneck) for module in net.modules()) == bottleneck


def test_job_without_torch_fails_with_the_install_hint(tmp_path: Path) -> None:
    channels = {name: ChannelData({}, "application/x-image") for name in ("train", "train_lst")}
    code, failure = run_container_without_torch(
        "image_classification", tmp_path, {"num_classes": 2, "num_training_samples": 1}, channels
    )
    assert code != 0
    assert failure == "ClientError: install shipyard[deep] to use image-classification"