"""A model's containers by image kind: fetched into the instance directory, then loaded.

- ``builtin``: the algorithm's inference handler over the model directory;
- ``script``: a framework image running the model's ``inference.py``
  (:mod:`~shipyard.serving.scriptmode`), from ``SAGEMAKER_SUBMIT_DIRECTORY`` or from
  ``code/`` in the model data;
- ``local``: a registered local image's ``serve`` (:mod:`~shipyard.serving.localimage`).

Container ``n`` (from 0, in the model's order) has its model data in ``model/<n>/``
and fetched code in ``code/<n>/``.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from shipyard.algorithms.inference import Predictor, load_predictor
from shipyard.jobs.errors import ClientError
from shipyard.jobs.s3 import S3
from shipyard.jobs.sourcedir import fetch_source
from shipyard.jobs.spec import Resources
from shipyard.serving.failures import LoadError
from shipyard.serving.invocation import Container, Request, Response
from shipyard.serving.localimage import LocalImageContainer
from shipyard.serving.model_data import fetch_model_data
from shipyard.serving.scriptmode import ScriptContainer, default_program
from shipyard.serving.spec import ContainerSpec

MODEL = "model"
CODE = "code"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
#: Where the SDK's repacked ``model.tar.gz`` says its code is: ``/opt/ml/model/code``.
OPT_ML_MODEL = PurePosixPath("/opt/ml/model")
REQUIREMENTS = "requirements.txt"


class BuiltinContainer:
    """A built-in algorithm's predictor."""

    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor

    def invoke(self, request: Request) -> Response:
        body, content_type = self._predictor.invoke(request.body, request.content_type, request.accept)
        return Response(body, content_type)

    def close(self) -> None:
        pass


def model_dir(instance_dir: Path, index: int) -> Path:
    """Where container ``index``'s model data is unpacked."""
    return instance_dir / MODEL / str(index)


def code_dir(container: ContainerSpec, instance_dir: Path, index: int) -> Path:
    """Where a script container's inference code is once fetched."""
    location = container.environment.get(SUBMIT_DIRECTORY, "").removeprefix("file://")
    if not location:
        return model_dir(instance_dir, index) / CODE
    if PurePosixPath(location).is_relative_to(OPT_ML_MODEL):
        return model_dir(instance_dir, index) / PurePosixPath(location).relative_to(OPT_ML_MODEL)
    return instance_dir / CODE / str(index)


def fetch(container: ContainerSpec, instance_dir: Path, index: int, s3: S3) -> None:
    """Download the container's model data, and its code when it is elsewhere."""
    if container.model_data_url:
        fetch_model_data(s3, container.model_data_url, container.compressed, model_dir(instance_dir, index), instance_dir)
    if container.image.kind != "script":
        return
    code = code_dir(container, instance_dir, index)
    if code.is_relative_to(instance_dir / CODE):
        try:
            fetch_source(s3, container.environment[SUBMIT_DIRECTORY], code, instance_dir)
        except ClientError as error:
            raise LoadError(str(error).removeprefix("ClientError: ")) from None


def requirements(container: ContainerSpec, instance_dir: Path, index: int) -> Path | None:
    """The ``requirements.txt`` beside a script container's program, if there is one."""
    if container.image.kind != "script":
        return None
    path = code_dir(container, instance_dir, index) / REQUIREMENTS
    return path if path.is_file() else None


def load(container: ContainerSpec, instance_dir: Path, index: int, resources: Resources) -> Container:
    """Load a fetched container; its ``Environment`` becomes the process's first (built-in
    algorithms and model code read their settings there)."""
    os.environ.update(container.environment)
    models = model_dir(instance_dir, index)
    models.mkdir(parents=True, exist_ok=True)
    image = container.image
    if image.kind == "builtin":
        return BuiltinContainer(load_predictor(image.algorithm, models))
    if image.kind == "script":
        program = code_dir(container, instance_dir, index) / default_program(container.environment)
        return ScriptContainer.load(program, models, container.environment)
    if image.kind == "local":
        return LocalImageContainer.start(Path(image.path), models, container.environment, resources)
    raise LoadError(
        f"The image {image.uri} cannot serve a model: it is neither a built-in algorithm, "
        "a framework image nor a local image with a serve executable."
    )
