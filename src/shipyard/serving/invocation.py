"""One inference request as a container sees it, and its answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: What a request without a Content-Type is taken to be (HTTP's rule for an unlabelled body).
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Request:
    """An ``/invocations`` request: the body and the headers of the serving contract."""

    body: bytes
    content_type: str = DEFAULT_CONTENT_TYPE
    #: ``Accept`` as the caller gave it (None: none given).
    accept: str | None = None
    custom_attributes: str = ""
    inference_id: str = ""


@dataclass(frozen=True)
class Response:
    """A container's answer; ``custom_attributes`` is what the model's code set (if any)."""

    body: bytes
    content_type: str
    custom_attributes: str = ""


class Container(Protocol):
    """A loaded container of the model: answers requests until closed."""

    def invoke(self, request: Request) -> Response:
        """Answer one request (from a worker thread); raises
        :class:`~shipyard.algorithms.errors.InferenceError` for a request it refuses."""
        ...

    def close(self) -> None:
        """Let go of what the container holds (processes); called once, at shutdown."""
        ...
