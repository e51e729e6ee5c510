"""``shipyard algorithms``: the built-in algorithms, their images, content types, hyperparameters and metrics."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from shipyard.algorithms import catalog
from shipyard.algorithms.spec import Algorithm


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the declarations as JSON.")
def algorithms(name: str | None, as_json: bool) -> None:
    """List the built-in algorithms, or show NAME's hyperparameters and metrics.

    NAME is an algorithm name (kmeans), module (linear_learner) or image repository
    (sagemaker-xgboost).
    """
    chosen = catalog.algorithms()
    if name:
        found = catalog.find(name)
        if found is None:
            names = ", ".join(algorithm.name for algorithm in chosen)
            Console(stderr=True).print(f"[red]No built-in algorithm {name!r}; there are: {names}[/]")
            sys.exit(1)
        chosen = (found,)
    if as_json:
        click.echo(json.dumps([_as_json(algorithm) for algorithm in chosen], indent=2))
        return
    console = Console()
    if name:
        _show(console, chosen[0])
        return
    table = Table("Algorithm", "Family", "Images", "Training content types", "Metrics")
    for algorithm in chosen:
        table.add_row(
            algorithm.name + (" (deep)" if algorithm.deep else ""),
            algorithm.family,
            ", ".join(algorithm.repositories),
            ", ".join(algorithm.content_types),
            ", ".join(metric.name for metric in algorithm.metrics),
        )
    console.print(table)


def _show(console: Console, algorithm: Algorithm) -> None:
    console.print(f"[bold]{algorithm.title}[/] ({algorithm.name}): {algorithm.family}")
    console.print(f"Images: {', '.join(algorithm.repositories)}")
    channels = ", ".join(f"{channel}{'' if required else ' (optional)'}" for channel, required in algorithm.channels.items())
    console.print(f"Channels: {channels}")
    console.print(f"Training content types: {', '.join(algorithm.content_types)} (default {algorithm.default_content_type})")
    console.print(f"Inference: {', '.join(algorithm.inference_content_types)} -> {', '.join(algorithm.accept_types)}")
    if algorithm.notes:
        console.print(escape(algorithm.notes))
    if algorithm.deep:
        console.print(escape("Needs the deep extra: pip install 'shipyard[deep]'"))
    table = Table("Hyperparameter", "Type", "Default", "Accepted values", "Description")
    for item in algorithm.hyperparameters:
        default = "required" if item.required else ("" if item.default is None else str(item.default))
        table.add_row(item.name, item.kind, default, item.describe_range(), item.description)
    console.print(table)
    metrics = Table("Metric", "Goal", "Regex")
    for metric in algorithm.metrics:
        metrics.add_row(metric.name, "Maximize" if metric.maximize else "Minimize", metric.regex)
    console.print(metrics)


def _as_json(algorithm: Algorithm) -> dict[str, Any]:
    return {
        "name": algorithm.name,
        "title": algorithm.title,
        "family": algorithm.family,
        "images": list(algorithm.repositories),
        "channels": dict(algorithm.channels),
        "content_types": list(algorithm.content_types),
        "default_content_type": algorithm.default_content_type,
        "inference_content_types": list(algorithm.inference_content_types),
        "accept_types": list(algorithm.accept_types),
        "deep": algorithm.deep,
        "notes": algorithm.notes,
        "hyperparameters": [
            {
                "name": item.name,
                "type": item.kind,
                "required": item.required,
                "default": item.default,
                "range": item.describe_range(),
                "description": item.description,
            }
            for item in algorithm.hyperparameters
        ],
        "metrics": [{**metric.definition(), "Goal": "Maximize" if metric.maximize else "Minimize"} for metric in algorithm.metrics],
    }
