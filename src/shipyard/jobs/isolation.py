"""The job process's own view of the machine: a private ``/opt/ml``, ``algo-N`` names,
its CPUs, and limits for the code it runs.

The mount namespace is made first thing, while the runner is still single-threaded
(``unshare(CLONE_NEWNS)`` refuses a multi-threaded caller). Mounts made inside it are
private: the host and other jobs never see them, and they vanish with the runner.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from collections.abc import Callable
from pathlib import Path

from shipyard.jobs.mlroot import OPT_ML, MlRoot
from shipyard.jobs.spec import OPT_ML as HOST_OPT_ML
from shipyard.jobs.spec import RLIMIT_SWITCH, Resources

CLONE_NEWNS = 0x00020000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
ETC_HOSTS = Path("/etc/hosts")
#: Set to "0" (by an executor or a test) to run without the mount namespace.
NAMESPACE_SWITCH = "SHIPYARD_JOB_NAMESPACE"


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _bind(libc: ctypes.CDLL, source: Path, target: Path) -> None:
    _check(libc.mount(str(source).encode(), str(target).encode(), None, MS_BIND, None), f"bind-mount {source} on {target}")


def isolate(host_dir: Path, hosts: list[str]) -> tuple[MlRoot, list[str]]:
    """Mount the host dir's ``opt_ml`` on ``/opt/ml`` in a new mount namespace.

    Returns the ml root and notes worth a line in the job's log. Without a namespace (not
    root, no ``unshare``, switched off) the ml root is ``<host dir>/opt_ml``.
    """
    local = host_dir / HOST_OPT_ML
    local.mkdir(exist_ok=True)
    if os.environ.get(NAMESPACE_SWITCH) == "0":
        return MlRoot(local, f"switched off by {NAMESPACE_SWITCH}=0"), []
    try:
        libc = _libc()
        _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / a private mount")
        Path(OPT_ML).mkdir(parents=True, exist_ok=True)
        _bind(libc, local, Path(OPT_ML))
    except OSError as error:
        return MlRoot(local, error.strerror or str(error)), []
    notes = []
    try:
        _bind(libc, _hosts_file(host_dir, hosts), ETC_HOSTS)
    except OSError as error:
        notes.append(f"the job's host names ({', '.join(hosts)}) are not in /etc/hosts: {error.strerror or error}")
    return MlRoot(Path(OPT_ML)), notes


def _hosts_file(host_dir: Path, hosts: list[str]) -> Path:
    """A copy of ``/etc/hosts`` where every host of the job is this machine."""
    try:
        current = ETC_HOSTS.read_text()
    except OSError:
        current = "127.0.0.1 localhost\n"
    path = host_dir / "hosts"
    path.write_text(current.rstrip("\n") + "\n127.0.0.1 " + " ".join(hosts) + "\n")
    return path


def pin_cpus(resources: Resources) -> str:
    """Pin the runner (and so the job) to its CPU ids; a note when that was not possible."""
    try:
        os.sched_setaffinity(0, resources.cpu_ids)
    except (OSError, ValueError) as error:
        return f"could not pin the job to CPUs {resources.cpu_ids}: {error}"
    return ""


def child_setup(resources: Resources) -> Callable[[], None]:
    """What runs in the job's process between fork and exec.

    The job dies with the runner (a runner killed outright must not leave it running), and
    gets the instance's memory as its address-space limit when the executor asks for it.
    """
    prctl = ctypes.CDLL(None).prctl
    limit = resources.memory_mib * 1024 * 1024 if os.environ.get(RLIMIT_SWITCH) == "1" else 0

    def setup() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return setup
