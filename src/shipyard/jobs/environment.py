"""The environment of the job's process: the platform's variables around the job's own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from shipyard.jobs.spec import HostSpec
from shipyard.jobs.venvs import job_venv

#: Inherited variables that would point boto3 inside the job at someone else's identity
#: (or the server's settings); the job gets its own AWS_* variables instead.
DROPPED_PREFIXES = ("AWS_", "SHIPYARD_")


def job_environment(spec: HostSpec, host_dir: Path, variables: Mapping[str, str], path_dirs: list[Path]) -> dict[str, str]:
    """The runner's environment without AWS_*/SHIPYARD_* settings, then ``variables``, the
    job's identity and endpoint, ``PATH`` (``path_dirs`` and the job's venv first), GPUs,
    and last the request's ``Environment`` map."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(DROPPED_PREFIXES)}
    env.update(variables)
    credentials = spec.credentials
    env.update(
        AWS_ENDPOINT_URL=spec.endpoint_url,
        AWS_ACCESS_KEY_ID=credentials.get("AccessKeyId", ""),
        AWS_SECRET_ACCESS_KEY=credentials.get("SecretAccessKey", ""),
        AWS_DEFAULT_REGION=spec.region,
        AWS_REGION=spec.region,
        MASTER_ADDR=spec.master_addr,
        PYTHONUNBUFFERED="1",
        CUDA_VISIBLE_DEVICES=",".join(str(gpu) for gpu in spec.resources.gpu_ids),
    )
    if credentials.get("SessionToken"):
        env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    if spec.ca_bundle:
        env["AWS_CA_BUNDLE"] = spec.ca_bundle
    if spec.master_port:
        env["MASTER_PORT"] = str(spec.master_port)
    folders = [*path_dirs, job_venv(host_dir) / "bin"]
    env["PATH"] = os.pathsep.join([*(str(folder) for folder in folders), env.get("PATH") or os.defpath])
    env.update({name: str(value) for name, value in (spec.request.get("Environment") or {}).items()})
    return env
