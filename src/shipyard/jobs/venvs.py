"""The virtualenvs jobs run in, so that nothing a job installs lands in the server's Python.

Every job gets a virtualenv of its own (in its host directory) whose ``python``, ``python3``,
``pip`` and ``pip3`` come first on its ``PATH``: a job that runs ``pip install`` (the SDK v3
drivers do, for ``requirements``) installs into it. Script mode's ``requirements.txt`` gets a
venv cached and shared between jobs, keyed by the sha256 of the file.

Each is made with ``venv --without-pip`` from the server's interpreter, plus a ``.pth``
file that adds the server's own site-packages (those of its virtualenv, when it runs in
one): the job sees exactly the packages the server has (and pip counts them as installed;
pip itself comes from there too), not whatever else the base interpreter's installation
holds.
"""

from __future__ import annotations

import fcntl
import hashlib
import shlex
import shutil
import site
import subprocess
import sys
import venv as venv_module
from pathlib import Path

from shipyard.jobs.errors import ClientError
from shipyard.jobs.joblog import JobLog

READY = ".shipyard-ready"


def cached_venv(requirements: Path, cache: Path, log: JobLog) -> Path:
    """The venv with ``requirements`` installed: reused when cached, else built (locked)."""
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:32]
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / key
    with (cache / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (venv / READY).exists():
            log.info(f"Reusing the virtualenv {venv} for requirements.txt")
            return venv
        shutil.rmtree(venv, ignore_errors=True)  # left half-built by a runner that died
        log.info(f"Creating the virtualenv {venv} for requirements.txt")
        _make_venv(venv)
        python = venv / "bin" / "python"
        pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--no-input"]
        _run([*pip, "install", "-r", str(requirements)], log)
        (venv / READY).touch()
    return venv


def job_venv(host_dir: Path) -> Path:
    """The job's own virtualenv, ``<host dir>/venv`` (made on first use)."""
    venv = host_dir / "venv"
    if not (venv / READY).exists():
        _make_venv(venv)
        (venv / READY).touch()
    return venv


def _make_venv(venv: Path) -> None:
    """A venv that sees the server's packages and has ``pip``/``pip3`` commands."""
    venv_module.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=True, clear=True).create(venv)
    purelib = next((venv / "lib").glob("python*/site-packages"))
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    (purelib / "_shipyard_server.pth").write_text("\n".join(lines) + "\n")
    python = shlex.quote(str(venv / "bin" / "python"))
    for name in ("pip", "pip3"):
        script = venv / "bin" / name
        script.write_text(f'#!/bin/sh\nexec {python} -m pip "$@"\n')
        script.chmod(0o755)


def _run(argv: list[str], log: JobLog) -> None:
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    for line in done.stdout.splitlines():
        log.line(line)
    if done.returncode != 0:
        tail = done.stdout.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ClientError(f"Installing requirements.txt failed (exit code {done.returncode}): {' '.join(tail)[:600]}")
