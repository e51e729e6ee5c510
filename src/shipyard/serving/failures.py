"""How a worker that cannot load its model says why: the ``failure`` file of its instance."""

from __future__ import annotations

from pathlib import Path

from shipyard.serving.spec import FAILURE

#: SageMaker's limit on a FailureReason.
REASON_LIMIT = 1024


class LoadError(Exception):
    """A container cannot be loaded; ``str(error)`` is the endpoint's FailureReason."""


def write_failure(instance_dir: Path, reason: str) -> None:
    """Write ``reason`` (one line, cut at 1024 characters) as the instance's ``failure``."""
    line = " ".join(reason.split())[:REASON_LIMIT]
    (instance_dir / FAILURE).write_text(line)


def read_failure(instance_dir: Path) -> str:
    """The reason a worker wrote, or "" when it wrote none."""
    try:
        return (instance_dir / FAILURE).read_text()
    except FileNotFoundError:
        return ""
