"""What a tuning strategy sees of the trials so far, and what it is asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

#: Training job statuses of a trial that is still running.
RUNNING = ("InProgress", "Stopping")
#: The statuses a training job, and a tuning job, end in.
ENDED = ("Completed", "Failed", "Stopped")


@dataclass(frozen=True)
class Trial:
    """One training job of a tuning job, as the strategies and the early-stopping rules see it."""

    #: 1, 2, 3...: the order the trials were proposed in (the NNN of its name).
    number: int
    #: The tuned hyperparameters only, as the training job got them (strings).
    hyperparameters: dict[str, str]
    #: The training job's status: InProgress, Stopping, Completed, Failed or Stopped.
    status: str
    #: The objective metric's final value, when the job reported one.
    objective: float | None = None
    #: Every value of the objective metric the job logged, in order (step 1, 2, ...).
    intermediate: tuple[float, ...] = field(default_factory=tuple)

    @property
    def running(self) -> bool:
        return self.status in RUNNING


class Strategy(Protocol):
    """Proposes hyperparameters. Stateless between calls: everything it knows is ``history``,
    so a tuning job picks up where it was after a server restart."""

    def propose(self, history: list[Trial], count: int) -> list[dict[str, str]]:
        """Up to ``count`` new sets of the tuned hyperparameters (as strings), given every
        trial so far (running ones included); fewer, or none, when the strategy has no more
        to try (a grid that is done)."""
        ...
