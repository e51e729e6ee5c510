"""Where the job's ``/opt/ml`` tree is, as the job's code sees it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shipyard.jobs.errors import ClientError

OPT_ML = PurePosixPath("/opt/ml")


@dataclass(frozen=True)
class MlRoot:
    """The ml root: ``/opt/ml`` inside the job's mount namespace, else the host dir's tree.

    Every ``SM_*`` variable and config file is written with this one root, and the runner
    itself reads and writes through it too.
    """

    path: Path
    #: Empty when ``/opt/ml`` is the job's own mount; else why it is not.
    unavailable: str = ""

    @property
    def namespaced(self) -> bool:
        return not self.unavailable

    def map(self, path: str, what: str) -> Path:
        """The place of ``path``, a SageMaker path that must lie under ``/opt/ml``."""
        pure = PurePosixPath(path)
        if not pure.is_absolute() or ".." in pure.parts or not (pure == OPT_ML or OPT_ML in pure.parents):
            raise ClientError(f"{what} {path!r} must be an absolute path under /opt/ml.")
        return self.path.joinpath(*pure.relative_to(OPT_ML).parts)

    def map_argument(self, argument: str) -> str:
        """``argument`` with a leading ``/opt/ml`` turned into the ml root (for command lines)."""
        if self.namespaced or not (argument == str(OPT_ML) or argument.startswith(f"{OPT_ML}/")):
            return argument
        return str(self.path) + argument[len(str(OPT_ML)) :]

    def explain(self, reason: str) -> str:
        """``reason`` (a FailureReason) with the hint that ``/opt/ml`` was not there, if so."""
        if self.namespaced:
            return reason[:1024]
        hint = f" (Note: /opt/ml is not available on this machine: {self.unavailable}; job code must use the SM_* variables.)"
        return reason[: max(0, 1024 - len(hint))] + hint[:1024]
