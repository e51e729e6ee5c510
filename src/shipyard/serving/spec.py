"""What the server hands an endpoint worker: plain files, as for job hosts.

The server (through an executor) lays out one *instance directory* per endpoint
instance and starts ``python -m shipyard.serving.worker <instance dir>`` there::

    <instance dir>/
      worker.json   WorkerSpec, written by the server before the start (read-only after)
      runner.log    the worker process's own stdout/stderr before it takes over its logging
      output.log    what the model server and the model's code print, line by line;
                    the server tails it into /aws/sagemaker/Endpoints/<endpoint>
      model/<n>/    container n's model data, unpacked (``/opt/ml/model`` of that container)
      code/<n>/     container n's inference code (``SAGEMAKER_SUBMIT_DIRECTORY``), if any
      failure       written by a worker that could not load its model: the one-line reason
                    (at most 1024 characters) the endpoint's FailureReason quotes

The worker listens on ``127.0.0.1:<port>`` and speaks SageMaker's serving contract:
``GET /ping`` answers 200 once every container is loaded, ``POST /invocations`` answers
an inference request (headers ``Content-Type``, ``Accept``,
``X-Amzn-SageMaker-Custom-Attributes``, ``X-Amzn-SageMaker-Inference-Id``,
``X-Amzn-SageMaker-Target-Container-Hostname``). A model's own error is answered with
its status (4xx/5xx) and a plain-text message, which the server hands to the caller as
``ModelError``. Batch transform starts the same worker for its model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from shipyard.jobs.spec import Image, Resources, write_atomic

WORKER_SPEC = "worker.json"
OUTPUT_LOG = "output.log"
FAILURE = "failure"

#: Request and response headers of the serving contract (lower-case, as ASGI gives them).
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
INFERENCE_ID = "x-amzn-sagemaker-inference-id"
TARGET_CONTAINER = "x-amzn-sagemaker-target-container-hostname"

InferenceMode = Literal["Serial", "Direct"]


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a model (``PrimaryContainer`` or an item of ``Containers``), resolved.

    ``image`` is what the container's ``Image`` resolved to (``builtin``, ``script`` or
    ``local``). ``model_data_url`` is an S3 URI: a ``model.tar.gz`` when ``compressed``,
    else a prefix whose objects are the model directory (``ModelDataSource`` with
    ``CompressionType: None``); empty for a container without model data.
    """

    image: Image
    model_data_url: str = ""
    compressed: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    #: ``ContainerHostname``: how ``TargetContainerHostname`` names it in Direct mode.
    hostname: str = ""


@dataclass(frozen=True)
class WorkerSpec:
    """Everything one endpoint instance's worker needs; written by the server as ``worker.json``."""

    #: The endpoint's name (for batch transform: the transform job's name).
    endpoint_name: str
    variant_name: str
    #: The instance's id within its variant (``i-<hex>``); names its log stream.
    instance_id: str
    region: str
    containers: list[ContainerSpec]
    #: How a request passes the containers: through each in turn (Serial, an inference
    #: pipeline) or to the one named by TargetContainerHostname (Direct).
    mode: InferenceMode
    port: int
    resources: Resources
    #: Where boto3 in the worker (and the model's code) reaches Shipyard: AWS_ENDPOINT_URL.
    endpoint_url: str
    #: Temporary credentials of the model's ExecutionRoleArn: AccessKeyId, SecretAccessKey,
    #: SessionToken, Expiration.
    credentials: dict[str, str]
    ca_bundle: str = ""
    #: Cache directory for the virtualenvs of inference code with a requirements.txt.
    venv_cache: str = ""

    @property
    def label(self) -> str:
        """A name for what the executor makes for this instance (its cgroup)."""
        return f"{self.endpoint_name}-{self.variant_name}-{self.instance_id}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        data = json.loads(text)
        data["containers"] = [
            ContainerSpec(**{**item, "image": Image(**item["image"])}) for item in data["containers"]
        ]
        data["resources"] = Resources(**data["resources"])
        return cls(**data)

    def write(self, instance_dir: Path) -> None:
        """Write ``worker.json`` atomically into ``instance_dir``."""
        write_atomic(instance_dir / WORKER_SPEC, self.to_json())

    @classmethod
    def read(cls, instance_dir: Path) -> WorkerSpec:
        return cls.from_json((instance_dir / WORKER_SPEC).read_text())
