"""Start a real ``shipyard up`` process on a free loopback port, and talk to it."""

from __future__ import annotations

import configparser
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from shipyard.compute.network import free_port


def peak_rss_bytes(pid: int) -> int:
    """Process ``pid``'s peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time process ``pid`` (all its threads) has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


@dataclass
class RunningServer:
    """A Shipyard server process and what a client needs to reach it."""

    endpoint_url: str
    data_dir: Path
    home: Path
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    region: str = "us-east-1"
    ca_bundle: str | None = None
    log_path: Path = field(default_factory=Path)

    @property
    def config_file(self) -> Path:
        return self.home / "config"

    @property
    def credentials_file(self) -> Path:
        return self.home / "credentials"

    @property
    def credentials(self) -> tuple[str, str]:
        """The root access key pair the server wrote to its ``shipyard`` profile."""
        parser = configparser.ConfigParser()
        parser.read(self.credentials_file)
        section = parser["shipyard"]
        return section["aws_access_key_id"], section["aws_secret_access_key"]

    def client_env(self) -> dict[str, str]:
        """Environment for a subprocess (the AWS CLI) that uses the ``shipyard`` profile."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_CONFIG_FILE=str(self.config_file),
            AWS_SHARED_CREDENTIALS_FILE=str(self.credentials_file),
            AWS_PROFILE="shipyard",
        )
        return env

    def client(
        self,
        service: str,
        *,
        region: str | None = None,
        credentials: Mapping[str, str] | None = None,
        **config: Any,
    ) -> Any:
        """A boto3 client for ``service`` signed with the root key, or with ``credentials``.

        ``credentials`` is shaped as IAM and STS return them: ``AccessKeyId``,
        ``SecretAccessKey`` and, for temporary ones, ``SessionToken``.
        """
        if credentials is None:
            access_key, secret_key = self.credentials
            token = None
        else:
            access_key, secret_key = credentials["AccessKeyId"], credentials["SecretAccessKey"]
            token = credentials.get("SessionToken")
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=region or self.region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
            verify=self.ca_bundle if self.ca_bundle else True,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def start(self) -> None:
        """Start the process and wait until it answers its health check."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"shipyard exited with {self.process.returncode}:\n{self.log_path.read_text()[-4000:]}")
            if self._healthy():
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"shipyard did not become healthy:\n{self.log_path.read_text()[-4000:]}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop the process: SIGTERM (graceful) or SIGKILL (a crash)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def peak_rss_bytes(self) -> int:
        """The server process's peak resident memory so far (VmHWM)."""
        assert self.process is not None
        return peak_rss_bytes(self.process.pid)

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system)."""
        assert self.process is not None
        return cpu_seconds(self.process.pid)

    def _healthy(self) -> bool:
        import ssl

        context = ssl.create_default_context(cafile=self.ca_bundle) if self.ca_bundle else None
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/_shipyard/health", timeout=1, context=context) as answer:
                return answer.status == 200 and b'"ok"' in answer.read()
        except OSError:
            return False


@contextmanager
def start_server(
    workdir: Path,
    *,
    database_url: str = "",
    tls: tuple[str, str] | None = None,
    ca_bundle: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """Run ``shipyard up`` in ``workdir`` for the duration of the ``with`` block.

    The server's AWS profile goes to files inside ``workdir``, never to the user's
    ``~/.aws``. ``tls`` is a (certificate, key) pair of PEM file paths.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    data_dir = workdir / "data"
    args = [sys.executable, "-m", "shipyard", "up", "--port", str(port), "--data-dir", str(data_dir), "--log-level", "warning"]
    if database_url:
        args += ["--database-url", database_url]
    if tls:
        args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        if ca_bundle:
            args += ["--tls-ca", ca_bundle]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHIPYARD_"))}
    env.update(
        AWS_CONFIG_FILE=str(workdir / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(workdir / "credentials"),
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    scheme = "https" if tls else "http"
    server = RunningServer(
        endpoint_url=f"{scheme}://127.0.0.1:{port}",
        data_dir=data_dir,
        home=workdir,
        args=args,
        env=env,
        ca_bundle=ca_bundle,
        log_path=workdir / "server.log",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        kill_strays(data_dir)


def kill_strays(data_dir: Path) -> None:
    """End what a server started and left running (job runners, or endpoint workers after
    the server was killed), so that a test leaves no process behind.

    Runners and workers work in a directory under ``data_dir`` and lead their own process
    group, which holds everything they started.
    """
    root = data_dir.resolve()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = Path(os.readlink(entry / "cwd"))
            if cwd == root or root in cwd.parents:
                os.killpg(os.getpgid(int(entry.name)), signal.SIGKILL)
