"""``POST /_shipyard/monitoring/run``: start an execution of a monitoring schedule now
(``shipyard monitor run``).

AWS has no operation for this, so it is one of Shipyard's own routes, held to the same
rules as the AWS APIs: the request is signed with SigV4 like a SageMaker request (the
gateway verifies it), and the caller must be allowed ``sagemaker:StartMonitoringSchedule``
on the schedule's ARN. The body is JSON ``{"MonitoringScheduleName": "..."}``; the answer
is the new execution's MonitoringExecutionSummary (times in epoch seconds), or a json
error body ``{"__type", "message"}`` with the error's status. The audit trail records each
request (event name ``RunMonitoringSchedule``), as the gateway records AWS calls.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope

from shipyard.audit import AuditEvent
from shipyard.aws.gateway import Gateway
from shipyard.errors import AwsError
from shipyard.iam.authorizer import resources_of
from shipyard.iam.callers import Caller
from shipyard.iam.context_keys import RequestFacts
from shipyard.monitoring.schedules.records import SCHEDULE
from shipyard.services.sagemaker.jobs import json_safe
from shipyard.services.sagemaker.monitoring_schedules import execution_summary

PATH = "/_shipyard/monitoring/run"

_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_OPERATION = "StartMonitoringSchedule"
#: The audit trail's event name for a run-now request (not an AWS operation).
AUDIT_EVENT = "RunMonitoringSchedule"


async def run_monitoring_schedule(scope: Scope, receive: Receive, gateway: Gateway) -> JSONResponse:
    """Answer one run-now request (its signature checked by ``gateway``), recorded in the
    audit trail as ``RunMonitoringSchedule``."""
    runtime = gateway.runtime
    received = datetime.now(UTC)
    caller: Caller | None = None
    params: dict[str, Any] | None = None
    region = runtime.settings.region
    resources: tuple[str, ...] = ()
    failure: AwsError | None = None
    facts = RequestFacts(
        source_ip=(scope.get("client") or ("",))[0],
        secure_transport=scope.get("scheme") == "https",
        user_agent=Headers(scope=scope).get("user-agent"),
        region=region,
    )
    try:
        caller, body, region = await gateway.authenticate(scope, receive, "sagemaker")
        facts = dataclasses.replace(facts, region=region)
        params = _params(body)
        authorizer = runtime.authorizer
        needed = authorizer.required(caller, "sagemaker", _OPERATION, params, region=region)
        resources = resources_of(needed)
        await authorizer.authorize(caller, "sagemaker", _OPERATION, needed, facts, error_style="json")
        name = params["MonitoringScheduleName"]
        schedule = await runtime.monitoring.get(SCHEDULE, region, name)
        if schedule is None:
            raise AwsError("ResourceNotFound", f"Could not find monitoring schedule {name}.")
        execution = await runtime.monitor.run_now(schedule)
        response = JSONResponse(json_safe(execution_summary(execution)))
    except AwsError as error:
        failure = error
        response = JSONResponse({"__type": error.code, "message": error.message}, status_code=error.status)
    await runtime.audit.record(
        AuditEvent(
            event_id=str(uuid.uuid4()),
            time=received,
            request_id=uuid.uuid4().hex[:16].upper(),
            service="sagemaker",
            event_source="sagemaker.amazonaws.com",
            operation=AUDIT_EVENT,
            principal_arn=None if caller is None else caller.principal.arn,
            principal_kind=None if caller is None else caller.principal.kind,
            principal_id=None if caller is None else caller.user_id,
            username=None if caller is None else caller.display_name,
            access_key_id=None if caller is None else caller.access_key_id,
            source_ip=facts.source_ip,
            user_agent=facts.user_agent,
            region=region,
            resources=resources,
            parameters=params,
            error_code=None if failure is None else failure.code,
            error_message=None if failure is None else failure.message,
        )
    )
    return response


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except ValueError:
        raise AwsError("SerializationException", "The request body is not JSON.") from None
    name = params.get("MonitoringScheduleName") if isinstance(params, dict) else None
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise AwsError(
            "ValidationException",
            "MonitoringScheduleName must be a monitoring schedule's name ([a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}).",
        )
    return {"MonitoringScheduleName": name}
