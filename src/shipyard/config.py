"""One typed settings object, read from flags, ``SHIPYARD_*`` environment variables and an
optional TOML file, shared by the server, the CLI and (later) job processes.

Precedence, highest first: explicit overrides (CLI flags) → environment → the file named by
``SHIPYARD_CONFIG`` (or ``<data dir>/config.toml``) → defaults.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_PREFIX = "SHIPYARD_"


@dataclass(frozen=True)
class Settings:
    """Everything a Shipyard server needs to know to start.

    Every field can be set as ``SHIPYARD_<FIELD>`` in the environment (``SHIPYARD_PORT=9000``)
    or as ``<field> = ...`` in the TOML file.
    """

    host: str = "127.0.0.1"
    port: int = 8600
    data_dir: Path = field(default_factory=lambda: Path(".shipyard"))
    log_level: str = "info"
    #: SQLAlchemy URL of the metadata database; empty means SQLite inside ``data_dir``.
    database_url: str = ""
    #: Region used where a request names none (ARNs, bucket locations).
    region: str = "us-east-1"
    #: ``<bucket>.<base_domain>`` in the Host header selects a bucket (virtual-host style).
    base_domain: str = "localhost"
    #: PEM files: when both are set the server speaks HTTPS.
    tls_cert: str = ""
    tls_key: str = ""
    #: PEM bundle clients should trust (the profile's ``ca_bundle``); empty means the
    #: certificate itself, which is right for a self-signed one.
    tls_ca: str = ""
    #: Sync every acknowledged write to disk (object files, their directories, SQLite's
    #: WAL), so it survives power loss; off, writes survive a crash of the server process.
    fsync: bool = True
    #: Requests whose body is parsed whole (not S3 object data) may not exceed this.
    max_request_body: int = 32 * 1024 * 1024
    #: Capacity that job hosts may hold at once: vCPUs (0: this machine's CPUs, at least
    #: 4), memory in MiB (0: this machine's memory), GPUs (-1: those nvidia-smi lists).
    cpus: int = 0
    memory: int = 0
    gpus: int = -1
    #: Seconds a stopped job has between SIGTERM and SIGKILL to save its work.
    job_stop_grace: int = 30
    #: Endpoint data capture: seconds at most between a captured invocation and its
    #: object in S3 (records are buffered and written together).
    capture_flush_seconds: float = 60
    #: Endpoint invocation metrics: seconds at most between an invocation and its
    #: CloudWatch aggregates in the database.
    metrics_flush_seconds: float = 10
    #: Model Monitor: 0 runs every schedule as its cron expression says; N > 0 runs every
    #: scheduled monitoring schedule every N seconds over the N seconds before (tests, demos).
    monitoring_interval_seconds: float = 0
    #: Seconds between two evaluations of every CloudWatch alarm (CloudWatch: a minute).
    alarm_evaluation_seconds: float = 60
    #: A shell command line run for the alarm actions ``shipyard:command`` and SNS topic
    #: ARNs, with the notification JSON on stdin; empty: no such action can be set.
    alarm_command: str = ""
    #: Days metric data is kept per minute; older minutes are merged into 5-minute rows.
    metrics_retention_days: float = 15
    #: Days 5-minute metric rows are kept; older ones are merged into 1-hour rows.
    metrics_five_minute_days: float = 63
    #: Days 1-hour metric rows are kept; older ones are deleted (and the count logged).
    metrics_hour_days: float = 455
    #: Seconds between two downsampling passes over the metric store (one also runs at start).
    metrics_retention_interval_seconds: float = 3600
    #: Seconds between two samples of the CPU, memory and disk use of every job host and
    #: endpoint instance (CloudWatch's CPUUtilization, MemoryUtilization, DiskUtilization).
    usage_sample_seconds: float = 10

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert and self.tls_key else "http"

    @property
    def endpoint_url(self) -> str:
        """The URL clients use; a wildcard bind address is reached through loopback."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'shipyard.db'}"


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from overrides, the environment and the optional TOML file.

    ``None`` values in ``overrides`` mean "not given" (an unset CLI flag).
    """
    env = os.environ if environ is None else environ
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    from_env = {
        f.name: env[ENV_PREFIX + f.name.upper()]
        for f in dataclasses.fields(Settings)
        if ENV_PREFIX + f.name.upper() in env
    }
    data_dir = Path(given.get("data_dir") or from_env.get("data_dir") or Settings().data_dir)
    config_file = Path(env.get(ENV_PREFIX + "CONFIG") or data_dir / "config.toml")
    from_file = _read_toml(config_file)
    merged = {**from_file, **from_env, **given}
    return Settings(**{f.name: _coerce(f, merged[f.name]) for f in dataclasses.fields(Settings) if f.name in merged})


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        values = tomllib.load(handle)
    known = {f.name for f in dataclasses.fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"{path}: unknown settings {sorted(unknown)}; known: {sorted(known)}")
    return values


def _coerce(settings_field: dataclasses.Field, value: Any) -> Any:
    kind = settings_field.type
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")
    if kind == "Path":
        return Path(value).expanduser()
    return str(value)
