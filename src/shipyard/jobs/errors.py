"""How a job ends early: a failure with SageMaker's reason, or a stop request."""

from __future__ import annotations


class JobFailure(Exception):
    """The job cannot go on; ``str(error)`` is the whole ``FailureReason``."""


class ClientError(JobFailure):
    """A problem with what the job asked for (its data, code or settings).

    The message is given without the ``ClientError: `` prefix; it is added here.
    """

    def __init__(self, message: str) -> None:
        super().__init__(f"ClientError: {message}")


class StopRequested(Exception):
    """SIGTERM arrived while the job was still being prepared."""
