"""``shipyard images``: register local images, directories with ``train`` / ``serve`` executables.

A job whose ``TrainingImage`` (or ``ImageUri``) is a registered name runs that directory's
``train`` (the bring-your-own-container contract) on this machine.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def images_group(settings_options: Callable[[click.Command], click.Command], settings: Callable[[dict], Any]) -> click.Group:
    """The ``images`` command group; its commands open the data directory's database."""

    @click.group()
    def images() -> None:
        """Local images: directories with `train` / `serve` executables that jobs can run."""

    @images.command("add")
    @click.argument("name")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @settings_options
    def add(name: str, directory: Path, **values: object) -> None:
        """Register DIRECTORY as the image NAME (use NAME as TrainingImage)."""
        train = directory / "train"
        serve = directory / "serve"
        if not any(os.access(path, os.X_OK) and path.is_file() for path in (train, serve)):
            console.print(f"[red]{directory} has no executable train or serve file.[/]")
            sys.exit(1)
        with _open_images(settings(values)) as store:
            store.add_sync(name, str(directory.resolve()))
        console.print(f"Registered image [bold]{name}[/] -> {directory.resolve()}")

    @images.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print the images as JSON.")
    @settings_options
    def list_images(as_json: bool, **values: object) -> None:
        """List the registered images."""
        with _open_images(settings(values)) as store:
            found = store.list_sync()
        if as_json:
            click.echo(json.dumps([{"name": n, "path": p, "created_ms": c} for n, p, c in found], indent=2))
            return
        table = Table("Name", "Directory", "Registered (UTC)")
        for name, path, created in found:
            table.add_row(name, path, datetime.fromtimestamp(created / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"))
        Console().print(table)

    @images.command("remove")
    @click.argument("name")
    @settings_options
    def remove(name: str, **values: object) -> None:
        """Forget the image NAME (its directory stays)."""
        with _open_images(settings(values)) as store:
            removed = store.remove_sync(name)
        if not removed:
            console.print(f"[red]No image named {name!r}.[/]")
            sys.exit(1)
        console.print(f"Removed image [bold]{name}[/].")

    return images


@contextmanager
def _open_images(settings: Any) -> Iterator[Any]:
    """The image registry of a data directory, open for one command."""
    from shipyard.compute.job_store import ImageStore
    from shipyard.server.runtime import prepare_data_dir
    from shipyard.store.database import Database

    prepare_data_dir(settings)
    database = Database(settings.resolved_database_url)
    try:
        database.migrate()
        yield ImageStore(database)
    finally:
        database.close_sync()
