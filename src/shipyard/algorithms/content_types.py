"""The content types of SageMaker's built-in algorithms, and the spellings they accept.

Plain strings and a small parser only, so that declarations and the checks a job makes
before it reads any data import no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.algorithms.errors import AlgorithmError

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


@dataclass(frozen=True)
class ContentType:
    """A channel's content type: its canonical MIME type and its parameters."""

    mime: str
    parameters: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> ContentType:
        """``text/csv;label_size=0`` -> ``ContentType("text/csv", {"label_size": "0"})``.

        Unknown types keep their lower-cased spelling, for the algorithm to refuse.
        """
        head, *rest = [part.strip() for part in text.split(";")]
        parameters = {}
        for part in rest:
            key, _, value = part.partition("=")
            if key:
                parameters[key.strip().lower()] = value.strip()
        mime = head.lower()
        return cls(ALIASES.get(mime, mime), parameters)

    def label_size(self, default: int = 1) -> int:
        """The ``label_size`` parameter (0 or 1)."""
        text = self.parameters.get("label_size", str(default))
        if text not in ("0", "1"):
            raise AlgorithmError(f"label_size must be 0 or 1, not {text!r}")
        return int(text)
