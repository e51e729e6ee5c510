"""SageMaker's ``FailureReason`` for a job whose code failed."""

from __future__ import annotations

import shlex
from pathlib import Path

from shipyard.jobs.context import Command
from shipyard.jobs.process import Ending

REASON_LIMIT = 1024
MESSAGE_LIMIT = 600
TAIL_LINES = 3


def algorithm_error(ending: Ending, command: Command, failure_file: Path | None) -> str:
    """The job's own ``output/failure`` text when it wrote one; else ``AlgorithmError: ...``
    with the last lines of its stderr and its exit code (and the signal that killed it)."""
    if failure_file is not None:
        try:
            written = failure_file.read_text(errors="replace").strip()
        except OSError:
            written = ""
        if written:
            return written[:REASON_LIMIT]
    how = f"exit code: {ending.exit_code}"
    if ending.signal:
        how = f"killed by {ending.signal}, {how}"
    message = "\n".join(ending.stderr_tail[-TAIL_LINES:])[-MESSAGE_LIMIT:]
    if command.user_script:
        call = shlex.join(command.argv)[:200]
        return f'AlgorithmError: ExecuteUserScriptError:\nExitCode {ending.exit_code}\nErrorMessage "{message}"\nCommand "{call}", {how}'
    return f"AlgorithmError: {message or 'the job exited with an error'}, {how}"
