"""What runs for each kind of image: script mode, a local image, a command, a built-in."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path
from typing import Any

from shipyard.jobs.context import Command, Job
from shipyard.jobs.errors import ClientError
from shipyard.jobs.sourcedir import fetch_source
from shipyard.jobs.toolkit import TrainingLayout, command_line_arguments, decode
from shipyard.jobs.venvs import cached_venv, job_venv

#: The channel the SageMaker Python SDK v3's ModelTrainer sends its driver scripts in.
SDK_V3_DRIVERS = "sm_drivers"


def training_command(job: Job, layout: TrainingLayout) -> Command:
    """The training job's command (fetching script mode's code and requirements first)."""
    image = job.spec.image
    algorithm = job.spec.request.get("AlgorithmSpecification") or {}
    if image.kind == "script":
        return _script_mode(job, layout, algorithm)
    if image.kind == "local":
        return _local_image(job, algorithm, default_program="train")
    if image.kind == "builtin":
        return _builtin(image.algorithm, job.ml.path)
    return _entrypoint(job, algorithm, job.ml.path)


def processing_command(job: Job) -> Command:
    """The processing job's command: ``AppSpecification``'s entrypoint and arguments."""
    app = job.spec.request.get("AppSpecification") or {}
    if job.spec.image.kind == "builtin":
        raise ClientError(f"The built-in algorithm image {job.spec.image.uri} cannot run a processing job.")
    if job.spec.image.kind == "local":
        return _local_image(job, app, default_program="")
    if job.spec.image.kind == "analyzer":
        return _analyzer(job)
    return _entrypoint(job, app, job.ml.path)


def _entrypoint(
    job: Job, app: dict[str, Any], cwd: Path, path_dirs: list[Path] | None = None, python_path: list[Path] | None = None
) -> Command:
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise ClientError(f"The image {job.spec.image.uri} needs a ContainerEntrypoint on this Shipyard server.")
    channels = {channel.get("ChannelName") for channel in job.spec.request.get("InputDataConfig") or []}
    if SDK_V3_DRIVERS in channels and not job.ml.namespaced:
        # Its driver scripts hard-code /opt/ml paths that only the mount namespace provides.
        raise ClientError(
            f"This job (the SageMaker Python SDK v3's ModelTrainer, channel {SDK_V3_DRIVERS}) needs /opt/ml, "
            f"which this machine cannot give it: {job.ml.unavailable}"
        )
    argv = [job.ml.map_argument(part) for part in entrypoint + list(app.get("ContainerArguments") or [])]
    return Command(argv, cwd, path_dirs or [], python_path or [])


def _script_mode(job: Job, layout: TrainingLayout, algorithm: dict[str, Any]) -> Command:
    hyperparameters = {name: decode(value) for name, value in (job.spec.request.get("HyperParameters") or {}).items()}
    submit = hyperparameters.get("sagemaker_submit_directory")
    code = layout.code_dir
    if submit:
        job.log.info(f"Fetching the submit directory {submit} into {code}")
        fetch_source(job.s3, str(submit), code, job.host_dir)
    python, path_dirs = str(job_venv(job.host_dir) / "bin" / "python"), []
    if (code / "requirements.txt").is_file():
        venv = cached_venv(code / "requirements.txt", Path(job.spec.venv_cache or job.host_dir / "venvs"), job.log)
        python, path_dirs = str(venv / "bin" / "python"), [venv / "bin"]
    python_path = [code] if code.is_dir() else []
    if algorithm.get("ContainerEntrypoint"):
        return _entrypoint(job, algorithm, code if code.is_dir() else job.ml.path, path_dirs, python_path)
    program = hyperparameters.get("sagemaker_program")
    if not program:
        raise ClientError("Script mode needs the hyperparameter sagemaker_program (the entry point's file name).")
    if not (code / str(program)).is_file():
        raise ClientError(f'The entry point "{program}" is not in the submit directory "{submit or code}".')
    arguments = command_line_arguments({name: value for name, value in hyperparameters.items() if not name.startswith("sagemaker_")})
    runner = ["/bin/sh"] if str(program).endswith(".sh") else [python]
    return Command([*runner, str(program), *arguments], code, path_dirs, python_path, user_script=True)


def _local_image(job: Job, app: dict[str, Any], default_program: str) -> Command:
    """A local image's program: ``ContainerEntrypoint`` (relative to the image's folder) or
    ``<image>/<default_program>`` (``train``; none for processing); ``ContainerArguments``
    follow; the image's folder is first in PATH, as in the bring-your-own-container layout."""
    folder = Path(job.spec.image.path)
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if entrypoint:
        first = entrypoint[0]
        if not os.path.isabs(first) and (folder / first).exists():
            entrypoint[0] = str(folder / first)
        return _entrypoint(job, {**app, "ContainerEntrypoint": entrypoint}, job.ml.path, [folder])
    if not default_program:
        raise ClientError(f"The local image {job.spec.image.uri} needs a ContainerEntrypoint for a processing job.")
    program = folder / default_program
    if not program.is_file() or not os.access(program, os.X_OK):
        raise ClientError(f"The local image {job.spec.image.uri} has no executable {default_program} program ({program}).")
    arguments = [job.ml.map_argument(part) for part in app.get("ContainerArguments") or []]
    return Command([str(program), *arguments], job.ml.path, [folder])


def _builtin(algorithm: str, cwd: Path) -> Command:
    """A built-in algorithm runs as ``python -m shipyard.algorithms.container <name>``.

    That module is the algorithm's container: it reads the same ``/opt/ml`` tree and
    ``SM_*`` environment as any training image, and exits non-zero (after writing
    ``output/failure``) when it fails.
    """
    module = f"shipyard.algorithms.{algorithm}.train"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", algorithm) or not _module_exists(module):
        raise ClientError(f"the built-in algorithm {algorithm} is not available in this Shipyard version")
    return Command([sys.executable, "-m", "shipyard.algorithms.container", algorithm], cwd)


def _analyzer(job: Job) -> Command:
    """Model Monitor's analyzer image: ``python -m shipyard.monitoring.analyzer <ml root>``.

    It reads SageMaker's environment (``dataset_source``, ``output_path``...); its one
    argument is where ``/opt/ml`` is, for the paths in that environment. The image's own
    ``ContainerArguments`` are ignored, as the analyzer container ignores them.
    """
    return Command([sys.executable, "-m", "shipyard.monitoring.analyzer", job.ml.map_argument("/opt/ml")], job.ml.path)


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False
