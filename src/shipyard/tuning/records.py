"""A tuning job as the server keeps it: one row of ``tuning_jobs``.

``request`` is CreateHyperParameterTuningJob as the client sent it (JSON-safe). ``details``:

- ``definitions``: one per training job definition (``TrainingJobDefinition``, or each of
  ``TrainingJobDefinitions``): ``{"name": DefinitionName or "", "image": Image dict,
  "algorithm": AlgorithmSpecification with the built-in metric definitions added,
  "training": the definition as a CreateTrainingJob request (no name; the static
  hyperparameters as HyperParameters), "objective", "ranges", "definition": as sent}``;
- ``trials``: ``{training job name: trial dict}`` (see :mod:`shipyard.tuning.tuner`), in
  the order they were started;
- ``parents``: warm start: the trials of the parent tuning jobs (trial dicts), read once;
- ``best``: the name of the best trial so far; ``stop_reason`` ("user", "max-runtime",
  "target-reached", "not-improving"); ``failure_reason``; ``end_ms``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shipyard.store.database import Database
from shipyard.store.record_table import RecordTable
from shipyard.store.tables import tuning_jobs

KIND = "tuning"
#: Statuses in which the tuner still has work to do.
ACTIVE = ("InProgress", "Stopping")


@dataclass
class TuningJob:
    """One hyperparameter tuning job."""

    id: int
    kind: str
    region: str
    name: str
    arn: str
    #: HyperParameterTuningJobStatus: InProgress, Completed, Failed, Stopping, Stopped.
    status: str
    request: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0

    @property
    def config(self) -> dict[str, Any]:
        return self.request["HyperParameterTuningJobConfig"]


class TuningStore(RecordTable[TuningJob]):
    """Tuning jobs of every region, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, tuning_jobs, TuningJob)

    async def active(self) -> list[TuningJob]:
        """Every tuning job still in progress or stopping, oldest first."""
        return await self.where(tuning_jobs.c.status.in_(ACTIVE))
