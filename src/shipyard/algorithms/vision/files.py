"""Image files of a vision channel: listing, resolving named paths, decoding, resizing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from shipyard.algorithms.errors import AlgorithmError


def channel_files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """The files under ``directory`` whose names end in one of ``suffixes``, in path order
    (hidden files and folders skipped)."""
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and path.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def resolve(directory: Path, relative: str, *, named_in: str) -> Path:
    """The file ``relative`` inside channel ``directory``; AlgorithmError if it is not there."""
    root = directory.resolve()
    path = (root / relative.strip()).resolve()
    if not path.is_relative_to(root):
        raise AlgorithmError(f"{named_in} names {relative!r}, which is outside the {directory.name} channel")
    if not path.is_file():
        raise AlgorithmError(f"{named_in} names {relative!r}, which is not in the {directory.name} channel")
    return path


def decode_image(data: bytes, channels: int = 3) -> np.ndarray:
    """An encoded JPEG/PNG image as a ``height x width x channels`` uint8 array.

    Raises ValueError if ``data`` is not an image Pillow reads.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            converted = image.convert("L" if channels == 1 else "RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"not a JPEG or PNG image ({error})") from None
    array = np.array(converted, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def load_image(path: Path, channels: int = 3) -> np.ndarray:
    """The image file at ``path`` (see :func:`decode_image`); AlgorithmError naming it if unreadable."""
    try:
        return decode_image(path.read_bytes(), channels)
    except ValueError as error:
        raise AlgorithmError(f"Cannot read image {path.name}: {error}") from None


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` (``H x W x C`` uint8) resized to ``height x width`` with bilinear filtering."""
    from PIL import Image

    if image.shape[:2] == (height, width):
        return image
    channels = image.shape[2]
    resized = Image.fromarray(image[:, :, 0] if channels == 1 else image).resize((width, height), Image.Resampling.BILINEAR)
    array = np.array(resized, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array
