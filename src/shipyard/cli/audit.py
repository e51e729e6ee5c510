"""``shipyard audit``: the audit trail, read through CloudTrail's LookupEvents like any client."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.console import Console
from rich.table import Table

#: Filters in the order LookupEvents is asked for them (the most selective first); it
#: takes one, the others are applied to what it returns.
_FILTERS = (
    ("resource", "ResourceName"),
    ("access_key", "AccessKeyId"),
    ("user", "Username"),
    ("event", "EventName"),
    ("source", "EventSource"),
)

_RELATIVE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class _Moment(click.ParamType):
    """A time: ISO 8601 (``2025-03-01T12:00``, UTC unless it says otherwise) or ``15m``/``2h``/``7d`` ago."""

    name = "time"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        if match := _RELATIVE.match(value.strip()):
            return datetime.now(UTC) - timedelta(**{_UNITS[match[2]]: int(match[1])})
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(
                f"{value!r} is neither an ISO 8601 time nor a duration like 15m, 2h or 7d",
                param,
                ctx,
            )
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.option(
    "--user", help="Only calls by this user name (or role session name, or root)."
)
@click.option(
    "--event", help="Only this operation (CloudTrail event name), e.g. PutObject."
)
@click.option(
    "--resource", help="Only calls on this resource (bucket name, user name, or ARN)."
)
@click.option("--access-key", help="Only calls signed with this access key id.")
@click.option(
    "--source",
    help="Only this service: s3, iam, sts... or its event source (s3.amazonaws.com).",
)
@click.option(
    "--since",
    type=_Moment(),
    help="Oldest time: ISO 8601 or a duration ago (15m, 2h, 7d).",
)
@click.option(
    "--until", type=_Moment(), help="Newest time: ISO 8601 or a duration ago."
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many events.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the CloudTrail records as a JSON array.",
)
@click.option(
    "--profile",
    default="shipyard",
    show_default=True,
    help="AWS profile naming the server and key.",
)
@click.option(
    "--endpoint-url", help="Server URL, instead of the profile's endpoint_url."
)
def audit(
    limit: int, as_json: bool, profile: str, endpoint_url: str | None, **filters: Any
) -> None:
    """Show the audit trail: who called which API, on what, and how it ended (newest first)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    if filters["source"] and "." not in filters["source"]:
        filters["source"] = f"{filters['source']}.amazonaws.com"
    try:
        client = boto3.session.Session(profile_name=profile).client(
            "cloudtrail", endpoint_url=endpoint_url
        )
        records = list(_records(client, filters, limit))
    except (BotoCoreError, ClientError) as error:
        Console(stderr=True).print(f"[red]Cannot read the audit trail:[/] {error}")
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(records, indent=2))
    else:
        Console().print(_table(records))


def _records(
    client: Any, filters: dict[str, Any], limit: int
) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` CloudTrail records matching every filter, newest first."""
    chosen = [(name, key) for name, key in _FILTERS if filters[name]]
    request: dict[str, Any] = {}
    if chosen:
        name, key = chosen[0]
        request["LookupAttributes"] = [
            {"AttributeKey": key, "AttributeValue": filters[name]}
        ]
    if filters["since"]:
        request["StartTime"] = filters["since"]
    if filters["until"]:
        request["EndTime"] = filters["until"]
    found = 0
    for page in client.get_paginator("lookup_events").paginate(**request):
        for entry in page["Events"]:
            if all(
                _matches(entry, name, key, filters[name]) for name, key in chosen[1:]
            ):
                yield json.loads(entry["CloudTrailEvent"])
                found += 1
                if found == limit:
                    return


def _matches(entry: dict[str, Any], name: str, key: str, wanted: str) -> bool:
    if name == "resource":
        return any(
            resource.get("ResourceName") == wanted
            for resource in entry.get("Resources", [])
        )
    return entry.get(key) == wanted


def _table(records: list[dict[str, Any]]) -> Table:
    table = Table("Time (UTC)", "User", "Call", "Resources", "Result")
    for column in table.columns[:3]:
        column.no_wrap = True
    for record in records:
        identity = record.get("userIdentity") or {}
        arn = identity.get("arn")
        user = identity.get("userName") or (
            arn.rsplit("/", 1)[-1] if arn else identity.get("accessKeyId", "-")
        )
        if identity.get("type") == "Root":
            user = "root"
        service = (record.get("eventSource") or "-").removesuffix(".amazonaws.com")
        resources = "\n".join(
            resource["ARN"] for resource in record.get("resources", [])
        )
        result = (
            f"[red]{record['errorCode']}[/]"
            if record.get("errorCode")
            else "[green]OK[/]"
        )
        table.add_row(
            record["eventTime"].replace("T", " ").rstrip("Z"),
            user,
            f"{service}:{record.get('eventName') or '-'}",
            resources or "-",
            result,
        )
    return table
