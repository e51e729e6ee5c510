"""One job host's run, as the training and processing flows share it."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.jobs.environment import job_environment
from shipyard.jobs.errors import ClientError
from shipyard.jobs.joblog import JobLog
from shipyard.jobs.mlroot import MlRoot
from shipyard.jobs.process import Ending, UserProcess
from shipyard.jobs.s3 import S3
from shipyard.jobs.spec import HostSpec
from shipyard.jobs.stopping import StopSignal


@dataclass(frozen=True)
class Command:
    """What the job runs, and where."""

    argv: list[str]
    cwd: Path
    #: Folders put first in ``PATH`` (a virtualenv's ``bin``, a local image's folder).
    path_dirs: list[Path] = field(default_factory=list)
    #: Folders put first in ``PYTHONPATH`` (script mode's code).
    python_path: list[Path] = field(default_factory=list)
    #: Script mode's user script: its failures read as the toolkit's ExecuteUserScriptError.
    user_script: bool = False


@dataclass
class Job:
    """The spec, the host dir and the runner's services for one host's run."""

    spec: HostSpec
    host_dir: Path
    log: JobLog
    stop: StopSignal
    ml: MlRoot
    s3: S3
    #: Runs in the job's process before exec (see :func:`shipyard.jobs.isolation.child_setup`).
    child_setup: Callable[[], None]

    @property
    def is_first_host(self) -> bool:
        return self.spec.host == self.spec.hosts[0]

    def run(self, command: Command, variables: Mapping[str, str]) -> Ending:
        """Run ``command`` with the job's environment plus ``variables``, until it ends or is stopped."""
        env = job_environment(self.spec, self.host_dir, variables, command.path_dirs)
        if command.python_path:
            inherited = [env["PYTHONPATH"]] if env.get("PYTHONPATH") else []
            env["PYTHONPATH"] = os.pathsep.join([*(str(folder) for folder in command.python_path), *inherited])
        self.log.info(f"Running {shlex.join(command.argv)} in {command.cwd}")
        try:
            process = UserProcess(command.argv, env=env, cwd=command.cwd, log=self.log, setup=self.child_setup)
        except OSError as error:
            raise ClientError(f"{error.strerror}.") from None
        return process.wait(self.stop, self.spec.stop_grace_seconds)
