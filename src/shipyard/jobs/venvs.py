"""Virtualenvs for script mode's ``requirements.txt``, cached and shared between jobs.

A venv is keyed by the sha256 of the requirements file. It is made with ``venv
--system-site-packages`` from the server's interpreter, plus a ``.pth`` file that adds the
server's own site-packages: when the server itself runs in a virtualenv, its packages are
not "system" ones, and the job must still see them (and pip must count them as installed).
Packages go into the cached venv, never into the server's environment.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import site
import subprocess
import sys
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
        _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], log)
        _link_server_packages(venv)
        python = venv / "bin" / "python"
        pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check", "--no-input"]
        _run([*pip, "install", "-r", str(requirements)], log)
        (venv / READY).touch()
    return venv


def _link_server_packages(venv: Path) -> None:
    purelib = next((venv / "lib").glob("python*/site-packages"))
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    (purelib / "_shipyard_server.pth").write_text("\n".join(lines) + "\n")


def _run(argv: list[str], log: JobLog) -> None:
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    for line in done.stdout.splitlines():
        log.line(line)
    if done.returncode != 0:
        tail = done.stdout.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ClientError(f"Installing requirements.txt failed (exit code {done.returncode}): {' '.join(tail)[:600]}")
