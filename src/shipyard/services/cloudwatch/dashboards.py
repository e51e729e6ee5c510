"""Dashboards: PutDashboard, GetDashboard, ListDashboards and DeleteDashboards.

Shipyard draws no dashboards; it keeps them as CloudWatch does, so that scripts and
infrastructure code that create, read and delete them work unchanged. A body must follow
the documented structure (a JSON object with a ``widgets`` array of typed, placed widgets);
what breaks it is refused with every problem's ``DataPath``, and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.errors import invalid_value
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.store.records import to_datetime

router = ServiceRouter("cloudwatch")

PAGE_SIZE = 1000
MAX_DELETE = 100
MAX_TAGS = 50
NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
PREFIX = re.compile(r"[A-Za-z0-9._-]{0,255}")
#: Widget types and, for each, the properties it cannot do without.
WIDGETS: dict[str, tuple[str, ...]] = {
    "metric": (),
    "text": ("markdown",),
    "log": ("query",),
    "alarm": ("alarms",),
    "explorer": ("metrics",),
    "custom": ("endpoint",),
}
#: A widget's placement: the grid is 24 units wide.
PLACEMENT = {"x": (0, 23), "y": (0, None), "width": (1, 24), "height": (1, 1000)}


def dashboard_arn(account_id: str, name: str) -> str:
    """Dashboards are global: their ARN names no region."""
    return f"arn:aws:cloudwatch::{account_id}:dashboard/{name}"


@router.operation("PutDashboard")
async def put_dashboard(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name, body = params["DashboardName"], params["DashboardBody"]
    if not NAME.fullmatch(name):
        raise AwsError(
            "InvalidParameterInput",
            "The value for field DashboardName must be 1 to 255 characters from A-Z, a-z, 0-9, '-' and '_'.",
            400,
        )
    problems = body_problems(body)
    if problems:
        listed = "; ".join(f"{path}: {message}" for path, message in problems)
        raise AwsError("InvalidParameterInput", f"The field DashboardBody is invalid: {listed}", 400)
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    if len(tags) > MAX_TAGS:
        raise AwsError("InvalidParameterInput", f"A dashboard can have at most {MAX_TAGS} tags.", 400)
    await ctx.runtime.dashboards.put(name, body, tags)
    return {"DashboardValidationMessages": []}


@router.operation("GetDashboard")
async def get_dashboard(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    name = params["DashboardName"]
    dashboard = await ctx.runtime.dashboards.get(name)
    if dashboard is None:
        raise AwsError("ResourceNotFound", f"Dashboard {name} does not exist", 404)
    return {
        "DashboardArn": dashboard_arn(ctx.runtime.account_id, name),
        "DashboardBody": dashboard.body,
        "DashboardName": name,
    }


@router.operation("ListDashboards")
async def list_dashboards(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    prefix = params.get("DashboardNamePrefix") or ""
    if not PREFIX.fullmatch(prefix):
        raise invalid_value("The parameter DashboardNamePrefix may hold up to 255 characters from A-Z, a-z, 0-9, '.', '-' and '_'.")
    token = params.get("NextToken")
    found = await ctx.runtime.dashboards.page(prefix, _decode_token(token) if token else None, PAGE_SIZE + 1)
    output: dict[str, Any] = {
        "DashboardEntries": [
            {
                "DashboardName": dashboard.name,
                "DashboardArn": dashboard_arn(ctx.runtime.account_id, dashboard.name),
                "LastModified": to_datetime(dashboard.modified_ms),
                "Size": len(dashboard.body.encode()),
            }
            for dashboard in found[:PAGE_SIZE]
        ]
    }
    if len(found) > PAGE_SIZE:
        output["NextToken"] = base64.urlsafe_b64encode(found[PAGE_SIZE - 1].name.encode()).decode("ascii")
    return output


@router.operation("DeleteDashboards")
async def delete_dashboards(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    names = list(params["DashboardNames"])
    if not 1 <= len(names) <= MAX_DELETE:
        raise invalid_value(f"DashboardNames must name 1 to {MAX_DELETE} dashboards.")
    missing = await ctx.runtime.dashboards.delete(names)
    if missing:
        # As CloudWatch documents: the others are deleted all the same.
        raise AwsError("ResourceNotFound", f"Dashboards do not exist: {', '.join(missing)}", 404)
    return {}


def body_problems(body: str) -> list[tuple[str, str]]:
    """What breaks the documented dashboard body structure: (DataPath, message) pairs."""
    try:
        document = json.loads(body)
    except ValueError as error:
        return [("/", f"The body is not JSON: {error}")]
    if not isinstance(document, dict):
        return [("/", "The body must be a JSON object.")]
    widgets = document.get("widgets")
    if not isinstance(widgets, list):
        return [("/widgets", "Should be an array of widgets.")]
    problems = []
    for index, widget in enumerate(widgets):
        problems.extend(_widget_problems(f"/widgets/{index}", widget))
    for member in ("start", "end", "periodOverride"):
        if member in document and not isinstance(document[member], str):
            problems.append((f"/{member}", "Should be a string."))
    return problems


def _widget_problems(path: str, widget: Any) -> list[tuple[str, str]]:
    if not isinstance(widget, dict):
        return [(path, "Should be an object.")]
    kind = widget.get("type")
    if kind not in WIDGETS:
        return [(f"{path}/type", f"Should be one of: {', '.join(WIDGETS)}.")]
    problems = []
    for member, (low, high) in PLACEMENT.items():
        value = widget.get(member)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
            bounds = f"{low} to {high}" if high is not None else f"{low} or more"
            problems.append((f"{path}/{member}", f"Should be an integer from {bounds}."))
    properties = widget.get("properties")
    if not isinstance(properties, dict):
        problems.append((f"{path}/properties", "Should be an object."))
        return problems
    for member in WIDGETS[kind]:
        if member not in properties:
            problems.append((f"{path}/properties/{member}", f"A {kind} widget needs {member}."))
    return problems


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeError, binascii.Error):
        raise invalid_value("The parameter NextToken is not valid.") from None
