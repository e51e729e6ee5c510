"""A SageMaker job as the server keeps it: one row of ``jobs``, as a mutable dataclass.

``request`` is the Create*Job request as the client sent it (JSON-safe). ``details`` holds
what the job became; its keys:

- ``transitions``: the secondary-status history, ``[{"Status", "StartTime", "EndTime",
  "StatusMessage"}]`` with times in epoch milliseconds (EndTime None while current);
- ``failure_reason``, ``exit_message``;
- ``image``: the resolved :class:`~shipyard.jobs.spec.Image` (a dict);
- ``resources``: the capacity the hosts hold (one :class:`~shipyard.jobs.spec.Resources`
  dict per host), set at launch;
- ``hosts``: ``{host: {"handle": HostHandle dict, "output": offset, "events": offset,
  "stream": log stream name, "ended": bool}}``;
- ``start_ms`` (launched), ``end_ms``; ``training_start_ms`` / ``training_end_ms``;
- ``model_artifacts``, ``output_data``, ``outputs`` (processing: name -> S3 URI);
- ``final_metrics``: ``{name: [value, timestamp_ms]}``, the latest value of each metric;
- ``model`` (transform): the model the job runs, as :class:`~shipyard.jobs.spec.HostSpec`'s
  ``model`` holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JobKind = Literal["training", "processing", "transform"]

#: SageMaker's word for each kind, in ARNs.
NOUNS = {"training": "training-job", "processing": "processing-job", "transform": "transform-job"}

#: Statuses in which a job still has work to do (the supervisor's concern).
ACTIVE = ("InProgress", "Stopping")

#: StatusMessages of the secondary statuses the server sets, for a job's kind.
_MESSAGES = {
    "Stopping": "Stopping the {kind} job",
    "Stopped": "{Kind} job stopped",
    "MaxRuntimeExceeded": "{Kind} job exceeded MaxRuntimeInSeconds provided",
    "Completed": "{Kind} job completed",
}


@dataclass
class Job:
    """One training, processing or batch transform job."""

    id: int
    kind: JobKind
    region: str
    name: str
    arn: str
    status: str
    secondary_status: str
    request: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0
    #: Why a stop was asked for: "user" (Stop*Job) or "max-runtime"; None if not stopped.
    stop_reason: str | None = None

    @property
    def key(self) -> str:
        """The job's key in the capacity queue and the supervisor."""
        return str(self.id)

    @property
    def instance_type(self) -> str:
        return self.cluster["InstanceType"]

    @property
    def instance_count(self) -> int:
        return int(self.cluster.get("InstanceCount") or 1)

    @property
    def cluster(self) -> dict[str, Any]:
        """``ResourceConfig`` (training), ``ProcessingResources.ClusterConfig`` (processing)
        or ``TransformResources`` (transform)."""
        if self.kind == "processing":
            return self.request["ProcessingResources"]["ClusterConfig"]
        if self.kind == "transform":
            return self.request["TransformResources"]
        return self.request.get("ResourceConfig") or {}

    @property
    def role_arn(self) -> str:
        """The role the job runs as: its ``RoleArn``; a transform job's model's execution role."""
        return self.request.get("RoleArn") or self.details.get("model", {}).get("role_arn", "")

    @property
    def max_runtime_seconds(self) -> int:
        stopping = self.request.get("StoppingCondition") or {}
        return int(stopping.get("MaxRuntimeInSeconds") or 86400)

    @classmethod
    def new(
        cls, *, kind: JobKind, region: str, name: str, arn: str, request: dict[str, Any], details: dict[str, Any], at_ms: int
    ) -> Job:
        """A job about to be stored and queued: InProgress, Starting ("Launching requested ML instances")."""
        job = cls(
            id=0,
            kind=kind,
            region=region,
            name=name,
            arn=arn,
            status="InProgress",
            secondary_status="Starting",
            request=request,
            details=details,
            created_ms=at_ms,
            modified_ms=at_ms,
        )
        job.set_secondary("Starting", "Launching requested ML instances", at_ms)
        return job

    def message(self, status: str) -> str:
        """The StatusMessage of a secondary status the server sets (Stopping, Stopped...)."""
        return _MESSAGES[status].format(kind=self.kind, Kind=self.kind.capitalize())

    def set_secondary(self, status: str, message: str, at_ms: int) -> None:
        """Enter secondary status ``status``: close the current transition, open a new one.

        Entering the current status again only updates its message.
        """
        transitions: list[dict[str, Any]] = self.details.setdefault("transitions", [])
        if transitions and transitions[-1]["Status"] == status:
            transitions[-1]["StatusMessage"] = message
            return
        if transitions and transitions[-1]["EndTime"] is None:
            transitions[-1]["EndTime"] = at_ms
        transitions.append({"Status": status, "StartTime": at_ms, "EndTime": None, "StatusMessage": message})
        self.secondary_status = status

    def finish(self, status: str, secondary: str, message: str, at_ms: int) -> None:
        """End the job in ``status`` with its last secondary status closed at ``at_ms``."""
        self.status = status
        self.set_secondary(secondary, message, at_ms)
        self.details["transitions"][-1]["EndTime"] = at_ms
        self.details["end_ms"] = at_ms
        if "training_start_ms" in self.details and "training_end_ms" not in self.details:
            self.details["training_end_ms"] = at_ms


def job_arn(kind: JobKind, region: str, account_id: str, name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:training-job/<name>`` (names lower-cased, as AWS does)."""
    return f"arn:aws:sagemaker:{region}:{account_id}:{NOUNS[kind]}/{name.lower()}"
