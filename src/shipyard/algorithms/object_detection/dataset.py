"""Object Detection's training data: one JSON annotation file per image.

An annotation file names its image (``file``, relative to the image channel), the frame its
boxes are measured in (``image_size``: ``[{"width", "height", "depth"}]``; the image's own
size when absent) and its boxes (``annotations``: ``class_id``, ``left``, ``top``,
``width``, ``height`` in pixels). Images are squashed to ``image_shape`` squares; boxes are
kept as ``[class_id, xmin, ymin, xmax, ymax]`` rows normalised to [0, 1].
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shipyard.algorithms.errors import AlgorithmError
from shipyard.algorithms.vision.files import (
    channel_files,
    load_image,
    resize_image,
    resolve,
)


@dataclass(frozen=True)
class Split:
    """A channel pair's images (``N x S x S x 3`` uint8) and their boxes (one ``k x 5`` array each)."""

    pixels: np.ndarray
    boxes: list[np.ndarray]


def load_split(image_dir: Path, annotation_dir: Path, side: int, *, num_classes: int) -> Split:
    """The images and boxes the annotation files in ``annotation_dir`` describe."""
    files = channel_files(annotation_dir, (".json",))
    if not files:
        raise AlgorithmError(f"The {annotation_dir.name} channel holds no .json annotation file")
    pixels = np.empty((len(files), side, side, 3), dtype=np.uint8)
    boxes = []
    for row, file in enumerate(files):
        document = _document(file)
        image = load_image(resolve(image_dir, document["file"], named_in=file.name))
        boxes.append(_boxes(document, file.name, image.shape, num_classes))
        pixels[row] = resize_image(image, side, side)
    return Split(pixels, boxes)


def _document(file: Path) -> dict[str, Any]:
    try:
        document = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise AlgorithmError(f"Annotation file {file.name} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("file"), str):
        raise AlgorithmError(f"Annotation file {file.name} must be an object with the image's path in \"file\"")
    if not isinstance(document.get("annotations", []), list):
        raise AlgorithmError(f"Annotation file {file.name}: \"annotations\" must be a list")
    return document


def _boxes(document: dict[str, Any], name: str, image_shape: tuple[int, ...], num_classes: int) -> np.ndarray:
    height, width = image_shape[:2]
    sizes = document.get("image_size")
    if sizes:
        try:
            width, height = float(sizes[0]["width"]), float(sizes[0]["height"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise AlgorithmError(f"Annotation file {name}: image_size must be [{{\"width\": ..., \"height\": ..., \"depth\": 3}}]") from None
        if width <= 0 or height <= 0:
            raise AlgorithmError(f"Annotation file {name}: image_size must be positive")
    rows = []
    for number, annotation in enumerate(document.get("annotations", [])):
        where = f"Annotation file {name}, annotation {number}"
        try:
            class_id = float(annotation["class_id"])
            left, top = float(annotation["left"]), float(annotation["top"])
            box_width, box_height = float(annotation["width"]), float(annotation["height"])
        except (KeyError, TypeError, ValueError):
            raise AlgorithmError(f"{where}: needs numeric class_id, left, top, width and height") from None
        if not class_id.is_integer() or not 0 <= class_id < num_classes:
            raise AlgorithmError(f"{where}: class_id {annotation['class_id']} is not in [0, num_classes={num_classes})")
        if box_width <= 0 or box_height <= 0:
            raise AlgorithmError(f"{where}: width and height must be positive")
        xmin, ymin = max(left, 0.0) / width, max(top, 0.0) / height
        xmax, ymax = min(left + box_width, width) / width, min(top + box_height, height) / height
        if xmax <= xmin or ymax <= ymin:
            raise AlgorithmError(f"{where}: the box lies outside the {width:g}x{height:g} image")
        rows.append([class_id, xmin, ymin, xmax, ymax])
    return np.array(rows, dtype=np.float32).reshape(-1, 5)
