"""Image data sets in SageMaker's "image format", for the vision algorithms' tests.

- :func:`digits_files`: scikit-learn's 8x8 digits as PNG files plus a ``.lst`` file
  (Image Classification's ``train``/``train_lst`` channels);
- :func:`shapes` / :func:`shapes_files`: synthetic images of rectangles (class 0) and
  circles (class 1) on noise, with one JSON annotation file per image (Object Detection's
  ``train``/``train_annotation`` channels).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from PIL import Image, ImageDraw


def encode(pixels: np.ndarray, image_format: str = "PNG") -> bytes:
    """``H x W`` or ``H x W x 3`` uint8 pixels as a PNG (or JPEG) file."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format)
    return buffer.getvalue()


@cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as ``N x 8 x 8`` uint8 grey images (0..255) and their labels (shared: do not modify)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images * (255 / 16)).round().astype(np.uint8), data.target


def digits_files(indices: Sequence[int], *, folder: str = "digits", image_format: str = "PNG") -> tuple[dict[str, bytes], bytes]:
    """The digits at ``indices`` as ``{"<folder>/<index>.png": bytes}`` (or ``.jpg``) and the ``.lst`` naming them."""
    pixels, labels = digits()
    suffix = _suffix(image_format)
    files = {f"{folder}/{index}.{suffix}": encode(pixels[index], image_format) for index in indices}
    lst = "".join(f"{index}\t{labels[index]}\t{folder}/{index}.{suffix}\n" for index in indices)
    return files, lst.encode()


def _suffix(image_format: str) -> str:
    return "jpg" if image_format == "JPEG" else image_format.lower()


@dataclass
class ShapesImage:
    """A synthetic image and its boxes: ``(class_id, left, top, width, height)`` in pixels."""

    pixels: np.ndarray
    boxes: list[tuple[int, int, int, int, int]] = field(default_factory=list)

    def truth(self) -> np.ndarray:
        """The boxes as rows ``[class_id, xmin, ymin, xmax, ymax]`` normalised to [0, 1]."""
        height, width = self.pixels.shape[:2]
        rows = [[label, left / width, top / height, (left + w) / width, (top + h) / height] for label, left, top, w, h in self.boxes]
        return np.array(rows, dtype=np.float64).reshape(-1, 5)


def shapes(count: int, *, side: int = 48, seed: int = 0, noise: float = 0.2) -> list[ShapesImage]:
    """``count`` images of 1-3 non-overlapping filled rectangles (class 0) and circles (class 1)
    in random colours, a quarter to half the side across, on uniform noise."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        background = (rng.integers(0, 256, (side, side, 3)) * noise + 60).astype(np.uint8)
        image = Image.fromarray(background)
        draw = ImageDraw.Draw(image)
        boxes: list[tuple[int, int, int, int, int]] = []
        for _ in range(int(rng.integers(1, 4))):
            label = int(rng.integers(0, 2))
            width, height = (int(value) for value in rng.integers(side // 4, side // 2 + 1, 2))
            height = width if label == 1 else height
            left, top = int(rng.integers(0, side - width)), int(rng.integers(0, side - height))
            if any(_overlap((left, top, width, height), box[1:]) for box in boxes):
                continue
            colour = tuple(int(value) for value in rng.integers(0, 256, 3))
            shape = [left, top, left + width - 1, top + height - 1]
            (draw.rectangle if label == 0 else draw.ellipse)(shape, fill=colour)
            boxes.append((label, left, top, width, height))
        result.append(ShapesImage(np.asarray(image), boxes))
    return result


def _overlap(first: Sequence[int], second: Sequence[int]) -> bool:
    left, top, width, height = first
    other_left, other_top, other_width, other_height = second
    return not (
        left + width <= other_left or other_left + other_width <= left or top + height <= other_top or other_top + other_height <= top
    )


def shapes_files(images: Sequence[ShapesImage], *, image_formats: Sequence[str] = ("PNG",)) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The images as files (``shapes/<n>.png``, or each in the next of ``image_formats`` in
    turn) and their annotation files (``<n>.json``)."""
    files, annotations = {}, {}
    for number, image in enumerate(images):
        image_format = image_formats[number % len(image_formats)]
        name = f"shapes/{number}.{_suffix(image_format)}"
        files[name] = encode(image.pixels, image_format)
        height, width = image.pixels.shape[:2]
        document = {
            "file": name,
            "image_size": [{"width": width, "height": height, "depth": 3}],
            "annotations": [
                {"class_id": label, "left": left, "top": top, "width": w, "height": h} for label, left, top, w, h in image.boxes
            ],
            "categories": [{"class_id": 0, "name": "rectangle"}, {"class_id": 1, "name": "circle"}],
        }
        annotations[f"{number}.json"] = json.dumps(document).encode()
    return files, annotations
