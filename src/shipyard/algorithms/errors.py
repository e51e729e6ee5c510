"""How a built-in algorithm refuses: a client error in training, an HTTP error in inference."""

from __future__ import annotations


class AlgorithmError(Exception):
    """A problem with what the user gave the algorithm: data, hyperparameters, channels.

    A training job that raises it fails with ``ClientError: <message>``.
    """


class InferenceError(Exception):
    """A request an inference handler cannot serve; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class UnsupportedContentType(InferenceError):
    """The request body's content type is not one the algorithm reads (415)."""

    def __init__(self, content_type: str, supported: tuple[str, ...]) -> None:
        super().__init__(415, f"Content type {content_type!r} is not supported; use one of: {', '.join(supported)}")


class UnsupportedAccept(InferenceError):
    """None of the accepted response types is one the algorithm writes (406)."""

    def __init__(self, accept: str, supported: tuple[str, ...]) -> None:
        super().__init__(406, f"Accept {accept!r} is not supported; use one of: {', '.join(supported)}")


class BadRequest(InferenceError):
    """The request body cannot be read (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)
