"""The content types of SageMaker's built-in algorithms, and the spellings they accept.

Plain strings only, so that declarations can use them without importing numpy.
"""

from __future__ import annotations

CSV = "text/csv"
LIBSVM = "text/libsvm"
RECORDIO = "application/x-recordio-protobuf"
JSON = "application/json"
JSONLINES = "application/jsonlines"
IMAGE = "application/x-image"
JPEG = "image/jpeg"
PNG = "image/png"
RECORDIO_IMAGES = "application/x-recordio"
ANY = "*/*"
#: What the vision algorithms read, for training and inference alike.
IMAGE_TYPES = (IMAGE, JPEG, PNG)

#: Spellings of each content type that SageMaker's algorithms accept -> the canonical one.
ALIASES = {
    "text/csv": CSV,
    "csv": CSV,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "libsvm": LIBSVM,
    "application/x-recordio-protobuf": RECORDIO,
    "recordio-protobuf": RECORDIO,
    "application/jsonlines": JSONLINES,
    "application/json": JSON,
    "json": JSON,
    "application/x-image": IMAGE,
    "image/jpeg": JPEG,
    "image/png": PNG,
    "application/x-recordio": RECORDIO_IMAGES,
}


def mime(content_type: str | None) -> str:
    """The canonical MIME type of a ``Content-Type``/``Accept`` item, parameters dropped."""
    head = (content_type or "").split(";", 1)[0].strip().lower()
    return ALIASES.get(head, head)
