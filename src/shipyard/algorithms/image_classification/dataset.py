"""Image Classification's training data: ``.lst`` files naming image files, and the input shape.

A ``.lst`` line is ``index<TAB>label<TAB>path`` (``multi_label=1``: one 0/1 column per class
between index and path); ``path`` is relative to the image channel. Images are brought to
``image_shape`` the same way in training and inference (:func:`prepare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.vision.files import (
    channel_files,
    load_image,
    resize_image,
    resolve,
)

#: ResNet depths SageMaker accepts for small images (CIFAR-style) and large ones (ImageNet-style).
SMALL_DEPTHS = (20, 32, 44, 56, 110)
LARGE_DEPTHS = (18, 34, 50, 101, 152, 200)
#: Inputs no taller than this use the CIFAR-style network.
SMALL_IMAGE_SIDE = 32


@dataclass(frozen=True)
class Shape:
    """``image_shape``: channels, height, width."""

    channels: int
    height: int
    width: int

    @classmethod
    def parse(cls, text: str) -> Shape:
        """``"3,224,224"`` -> ``Shape(3, 224, 224)``; AlgorithmError naming image_shape if malformed."""
        try:
            values = [int(item) for item in text.replace(" ", "").split(",")]
        except ValueError:
            values = []
        if len(values) != 3 or values[0] not in (1, 3) or min(values[1:]) < 1:
            raise AlgorithmError(
                f"Invalid value {text!r} for hyperparameter image_shape: must be 'num_channels,height,width' with 1 or 3 channels"
            )
        return cls(*values)

    @property
    def small(self) -> bool:
        """Whether the network is the CIFAR-style one."""
        return self.height <= SMALL_IMAGE_SIDE


def check_depth(num_layers: int, shape: Shape) -> None:
    """``num_layers`` must be one of the depths for the input size."""
    depths = SMALL_DEPTHS if shape.small else LARGE_DEPTHS
    if num_layers not in depths:
        size = f"{shape.height}x{shape.width}"
        raise AlgorithmError(
            f"Invalid value {num_layers} for hyperparameter num_layers: for {size} images use one of "
            f"{', '.join(map(str, depths))}"
        )


@dataclass(frozen=True)
class Entry:
    """One ``.lst`` line: the image's relative path and its label(s)."""

    index: int
    labels: tuple[float, ...]
    path: str


def read_lst(directory: Path, *, num_classes: int, multi_label: bool) -> list[Entry]:
    """The entries of every ``.lst`` file in channel ``directory``, checked against ``num_classes``."""
    files = channel_files(directory, (".lst",))
    if not files:
        raise AlgorithmError(f"The {directory.name} channel holds no .lst file")
    entries: list[Entry] = []
    seen: set[int] = set()
    for file in files:
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if not line.strip():
                continue
            entry = _entry(line, f"{file.name} line {number}", num_classes=num_classes, multi_label=multi_label)
            if entry.index in seen:
                raise AlgorithmError(f"{file.name} line {number}: image index {entry.index} is not unique")
            seen.add(entry.index)
            entries.append(entry)
    if not entries:
        raise AlgorithmError(f"The .lst files of the {directory.name} channel list no images")
    return entries


def _entry(line: str, where: str, *, num_classes: int, multi_label: bool) -> Entry:
    columns = line.rstrip("\r\n").split("\t") if "\t" in line else line.split()
    width = num_classes + 2 if multi_label else 3
    if len(columns) != width:
        expected = f"index, {num_classes} 0/1 label columns, path" if multi_label else "index, label, path"
        raise AlgorithmError(f"{where}: expected {width} tab-separated columns ({expected}), got {len(columns)}")
    try:
        index = int(float(columns[0]))
        labels = tuple(float(value) for value in columns[1:-1])
    except ValueError:
        raise AlgorithmError(f"{where}: the index and labels must be numbers") from None
    if multi_label:
        if any(value not in (0.0, 1.0) for value in labels):
            raise AlgorithmError(f"{where}: multi-label columns must be 0 or 1")
    elif not labels[0].is_integer() or not 0 <= labels[0] < num_classes:
        raise AlgorithmError(f"{where}: label {columns[1]} is not a class index in [0, num_classes={num_classes})")
    return Entry(index, labels, columns[-1].strip())


def prepare(image: np.ndarray, shape: Shape, resize: int | None) -> np.ndarray:
    """``image`` brought to ``shape``'s height and width.

    ``resize`` first scales the shorter side to that many pixels; an image at least as large
    as the input is then center-cropped (as MXNet's image iterator does), a smaller one is
    scaled to it.
    """
    if resize:
        height, width = image.shape[:2]
        scale = resize / min(height, width)
        image = resize_image(image, max(1, round(height * scale)), max(1, round(width * scale)))
    height, width = image.shape[:2]
    if height >= shape.height and width >= shape.width:
        top, left = (height - shape.height) // 2, (width - shape.width) // 2
        return image[top : top + shape.height, left : left + shape.width]
    return resize_image(image, shape.height, shape.width)


def load_split(
    image_dir: Path, lst_dir: Path, shape: Shape, *, num_classes: int, multi_label: bool, resize: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The images a split's ``.lst`` names, as ``N x H x W x C`` uint8, and their labels.

    Labels are class indices (``N``), or multi-hot rows (``N x num_classes``) for multi-label.
    """
    entries = read_lst(lst_dir, num_classes=num_classes, multi_label=multi_label)
    pixels = np.empty((len(entries), shape.height, shape.width, shape.channels), dtype=np.uint8)
    for row, entry in enumerate(entries):
        path = resolve(image_dir, entry.path, named_in=f"The {lst_dir.name} channel")
        pixels[row] = prepare(load_image(path, shape.channels), shape, resize)
    if multi_label:
        labels = np.array([entry.labels for entry in entries], dtype=np.float32)
    else:
        labels = np.array([int(entry.labels[0]) for entry in entries], dtype=np.int64)
    return pixels, labels
