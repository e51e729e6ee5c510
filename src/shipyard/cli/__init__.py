"""The ``shipyard`` command."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from rich.console import Console

from shipyard import __version__
from shipyard.cli.algorithms import algorithms
from shipyard.cli.audit import audit
from shipyard.cli.images import images_group
from shipyard.cli.logs import logs
from shipyard.cli.monitor import monitor
from shipyard.cli.profile import Profile, write_profile
from shipyard.config import Settings, load_settings

console = Console(stderr=True)


def _settings_options(command: click.Command) -> click.Command:
    """The server settings every command that opens the data directory accepts."""
    options = [
        click.option("--host", help="Address to bind. [env: SHIPYARD_HOST; default 127.0.0.1]"),
        click.option("--port", type=int, help="Port to listen on. [env: SHIPYARD_PORT; default 8600]"),
        click.option("--data-dir", type=click.Path(path_type=Path), help="Where metadata and objects live. [env: SHIPYARD_DATA_DIR; default ./.shipyard]"),
        click.option("--database-url", help="SQLAlchemy URL of the metadata database (PostgreSQL: postgresql+psycopg://...). [env: SHIPYARD_DATABASE_URL; default SQLite in the data dir]"),
        click.option("--region", help="Default region for ARNs and buckets. [env: SHIPYARD_REGION; default us-east-1]"),
        click.option("--base-domain", help="<bucket>.<base-domain> selects a bucket (virtual-host style). [env: SHIPYARD_BASE_DOMAIN; default localhost]"),
        click.option("--tls-cert", help="PEM certificate: serve HTTPS. [env: SHIPYARD_TLS_CERT]"),
        click.option("--tls-key", help="PEM private key for --tls-cert. [env: SHIPYARD_TLS_KEY]"),
        click.option("--tls-ca", help="PEM bundle that clients should trust, written to the profile as ca_bundle. [env: SHIPYARD_TLS_CA; default the certificate itself, for a self-signed one]"),
        click.option("--fsync/--no-fsync", default=None, help="Sync every write to disk before acknowledging it (survives power loss); --no-fsync survives process crashes only. [env: SHIPYARD_FSYNC; default on]"),
        click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="[env: SHIPYARD_LOG_LEVEL; default info]"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _settings(values: dict) -> Settings:
    keys = (
        "host", "port", "data_dir", "database_url", "region", "base_domain", "tls_cert", "tls_key", "tls_ca",
        "fsync", "log_level", "cpus", "memory", "gpus", "job_stop_grace",
    )
    return load_settings({key: values.pop(key, None) for key in keys})


def _profile(settings: Settings, name: str) -> Profile:
    from shipyard.server.runtime import bootstrap

    account = asyncio.run(bootstrap(settings))
    return Profile(
        name=name,
        endpoint_url=settings.endpoint_url,
        region=settings.region,
        access_key_id=account.root_access_key_id,
        secret_access_key=account.root_secret_access_key,
        ca_bundle=str(Path(settings.tls_ca or settings.tls_cert).resolve()) if settings.tls_cert else "",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shipyard")
def main() -> None:
    """Shipyard: a self-hosted machine-learning platform behind the real AWS APIs.

    Start the server with `shipyard up`, then use boto3 or the AWS CLI with the
    `shipyard` profile (AWS_PROFILE=shipyard).
    """


@main.command()
@_settings_options
@click.option("--profile", "profile_name", default="shipyard", show_default=True, help="AWS profile to write on first start.")
@click.option("--force", is_flag=True, help="Overwrite an existing AWS profile of that name.")
@click.option("--cpus", type=click.IntRange(1), help="vCPUs that jobs may hold at once. [env: SHIPYARD_CPUS; default this machine's CPUs, at least 4]")
@click.option("--memory", type=click.IntRange(1), help="MiB of memory that jobs may hold at once. [env: SHIPYARD_MEMORY; default this machine's memory]")
@click.option("--gpus", type=click.IntRange(0), help="GPUs that jobs may hold. [env: SHIPYARD_GPUS; default those nvidia-smi lists]")
@click.option("--job-stop-grace", type=click.IntRange(0), help="Seconds a stopped job has between SIGTERM and SIGKILL. [env: SHIPYARD_JOB_STOP_GRACE; default 30]")
def up(profile_name: str, force: bool, **values: object) -> None:
    """Start the server (every AWS API on one port) in the foreground."""
    import uvicorn

    from shipyard.server import create_app
    from shipyard.server.logs import configure_logging

    settings = _settings(values)
    profile = _profile(settings, profile_name)
    if write_profile(profile, force=force):
        console.print(f"Wrote AWS profile [bold]{profile_name}[/] (endpoint {settings.endpoint_url}).")
    configure_logging(settings.log_level)
    console.print(f"Shipyard {__version__} on [bold]{settings.endpoint_url}[/], data in {settings.data_dir.resolve()}")
    console.print(f"Use it with: [bold]export AWS_PROFILE={profile_name}[/]")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        log_config=None,
        ssl_certfile=settings.tls_cert or None,
        ssl_keyfile=settings.tls_key or None,
        timeout_graceful_shutdown=5,
    )


@main.command()
@_settings_options
@click.option("--profile", "profile_name", default="shipyard", show_default=True, help="Name of the AWS profile.")
@click.option("--force", is_flag=True, help="Overwrite an existing AWS profile of that name.")
@click.option("--print", "print_only", is_flag=True, help="Print the profile instead of writing it.")
@click.option("--json", "as_json", is_flag=True, help="With --print: the profile as JSON.")
def configure(profile_name: str, force: bool, print_only: bool, as_json: bool, **values: object) -> None:
    """Write (or print) the AWS profile that points boto3 and the AWS CLI at this server."""
    settings = _settings(values)
    profile = _profile(settings, profile_name)
    if print_only:
        if as_json:
            click.echo(json.dumps({"profile": profile.name, **profile.config_section(), **profile.credentials_section()}, indent=2))
        else:
            click.echo(profile.render(), nl=False)
        return
    if not write_profile(profile, force=force):
        console.print(f"[red]AWS profile {profile_name!r} exists already[/]; use --force to replace it or --print to see it.")
        sys.exit(1)
    console.print(f"Wrote AWS profile [bold]{profile_name}[/].")


main.add_command(algorithms)
main.add_command(audit)
main.add_command(logs)
main.add_command(monitor)
main.add_command(images_group(_settings_options, _settings))
