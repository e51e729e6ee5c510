"""Running an alarm's actions when its state changes, off the evaluation path.

An action is named by the user and run by the server:

- an ``http://`` or ``https://`` URL: a webhook. The notification (the JSON message
  CloudWatch publishes to SNS for an alarm) is POSTed to it, with a short timeout and a few
  tries;
- ``shipyard:command``, or any SNS topic ARN (``arn:aws:sns:...``, so code written for AWS
  runs unchanged): the administrator's ``alarm_command`` setting, a shell command line, runs
  with the notification on stdin and ``SHIPYARD_ALARM_NAME``, ``SHIPYARD_ALARM_STATE`` and
  ``SHIPYARD_ALARM_ACTION`` in its environment. Users name actions; they never give commands.

Each outcome is an ``Action`` item of the alarm's history. The actions a state change owes
are stored with it (``pending_actions`` in the alarm's details) and struck off when they
have run, so they run at least once, also across a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import urllib.error
import urllib.request
import uuid
from functools import cache
from typing import Any

import botocore.session

from shipyard.monitoring.alarms.evaluation import iso_time
from shipyard.monitoring.alarms.records import (
    Alarm,
    AlarmStore,
    HistoryItem,
    append_history,
)
from shipyard.store.records import now_ms

log = logging.getLogger("shipyard.alarms")

COMMAND_ACTION = "shipyard:command"
SNS_PREFIX = "arn:aws:sns:"
WEBHOOK_SCHEMES = ("http://", "https://")
#: Seconds a webhook may take to answer, tries, and seconds between tries.
WEBHOOK_TIMEOUT_S = 5.0
WEBHOOK_TRIES = 3
WEBHOOK_RETRY_DELAY_S = 1.0
#: Seconds the administrator's command may run.
COMMAND_TIMEOUT_S = 60.0


def is_command(action: str) -> bool:
    """Whether ``action`` runs the administrator's command."""
    return action == COMMAND_ACTION or action.startswith(SNS_PREFIX)


class ActionRunner:
    """Runs actions in background tasks and records their outcome in the alarm history."""

    def __init__(self, store: AlarmStore, command: str) -> None:
        self._store = store
        self._command = command
        self._tasks: set[asyncio.Task[None]] = set()
        #: The ids of the pending actions being run.
        self._running: set[str] = set()

    def problem(self, action: str) -> str | None:
        """Why ``action`` cannot be run, or None when it can."""
        if action.startswith(WEBHOOK_SCHEMES):
            return None
        if is_command(action):
            if self._command:
                return None
            return f"The action {action} runs the administrator's alarm_command, and this server has none configured."
        return (
            f"The action {action} is not supported: Shipyard runs http:// or https:// webhook URLs,"
            f" {COMMAND_ACTION} and SNS topic ARNs (the administrator's alarm_command)."
        )

    @staticmethod
    def schedule(alarm: Alarm, message: dict[str, Any]) -> None:
        """Note in ``alarm`` (being changed in a transaction) the actions its new state owes,
        with the notification ``message`` they send; :meth:`resume` runs them."""
        pending = alarm.details.setdefault("pending_actions", [])
        pending.extend({"id": uuid.uuid4().hex, "action": action, "message": message} for action in alarm.actions_for(alarm.status))

    def resume(self, alarm: Alarm) -> None:
        """Start the pending actions of ``alarm`` that are not running yet."""
        for entry in alarm.details.get("pending_actions", ()):
            if entry["id"] in self._running:
                continue
            self._running.add(entry["id"])
            task = asyncio.create_task(self._run(alarm, entry), name=f"alarm-action-{alarm.name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every started action has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Give running actions a moment, then cancel what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=WEBHOOK_TIMEOUT_S)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _run(self, alarm: Alarm, entry: dict[str, Any]) -> None:
        action, message = entry["action"], entry["message"]
        body = json.dumps(message, separators=(",", ":"))
        try:
            if action.startswith(WEBHOOK_SCHEMES):
                error = await _post(action, body)
            elif self._command:
                error = await _command(self._command, body, alarm.name, message["NewStateValue"], action)
            else:
                error = "no alarm_command is configured"
        except Exception as failure:  # an action never stops the server, whatever it does
            log.exception("alarm %s: action %s failed", alarm.name, action)
            error = str(failure) or type(failure).__name__
        data: dict[str, Any] = {
            "actionState": "Failed" if error else "Succeeded",
            "stateUpdateTimestamp": now_ms(),
            "notificationResource": action,
        }
        if error:
            data["error"] = error
            summary = f"Failed to execute action {action}. Received error: \"{error}\""
        else:
            data["publishedMessage"] = body
            summary = f"Successfully executed action {action}"
        item = HistoryItem(alarm.region, alarm.name, now_ms(), "Action", summary[:255], data, alarm.alarm_type)

        def strike_off(record: Alarm) -> None:
            record.details["pending_actions"] = [
                pending for pending in record.details.get("pending_actions", ()) if pending["id"] != entry["id"]
            ]

        try:
            await self._store.mutate(alarm.id, strike_off, then=lambda conn, record, result: append_history(conn, [item]))
        except LookupError:
            await self._store.record([item])  # the alarm was deleted meanwhile; its history stays
        finally:
            self._running.discard(entry["id"])


async def _post(url: str, body: str) -> str | None:
    """POST ``body`` to ``url`` until it answers 2xx; the last error, or None."""
    error = None
    for attempt in range(WEBHOOK_TRIES):
        if attempt:
            await asyncio.sleep(WEBHOOK_RETRY_DELAY_S * attempt)
        error = await asyncio.to_thread(_post_once, url, body)
        if error is None:
            return None
    return error


def _post_once(url: str, body: str) -> str | None:
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as answer:
            answer.read()
            return None
    except urllib.error.HTTPError as failure:
        return f"HTTP {failure.code} {failure.reason}"
    except (OSError, ValueError) as failure:
        return str(getattr(failure, "reason", failure))


async def _command(command: str, body: str, alarm_name: str, state: str, action: str) -> str | None:
    """Run the administrator's ``command``; an error when it fails, else None."""
    env = {
        **os.environ,
        "SHIPYARD_ALARM_NAME": alarm_name,
        "SHIPYARD_ALARM_STATE": state,
        "SHIPYARD_ALARM_ACTION": action,
    }
    process = await asyncio.create_subprocess_shell(
        command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(body.encode()), COMMAND_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        return f"the command ran longer than {COMMAND_TIMEOUT_S:g} seconds"
    if process.returncode:
        tail = stderr.decode(errors="replace").strip()[-200:]
        return f"the command exited with status {process.returncode}" + (f": {tail}" if tail else "")
    return None


def notification(alarm: Alarm, old_state: str, account_id: str) -> dict[str, Any]:
    """The message CloudWatch publishes to an SNS topic when ``alarm`` changes state: a
    metric alarm's ``Trigger``, or a composite's ``AlarmRule`` and ``TriggeringChildren``."""
    request, details = alarm.request, alarm.details
    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": request.get("AlarmDescription"),
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": iso_time(details["configured_ms"]),
        "NewStateValue": alarm.status,
        "NewStateReason": details["reason"],
        "StateChangeTime": iso_time(details["updated_ms"]),
        "Region": region_description(alarm.region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old_state,
        "OKActions": request.get("OKActions", []),
        "AlarmActions": request.get("AlarmActions", []),
        "InsufficientDataActions": request.get("InsufficientDataActions", []),
    }
    if alarm.is_composite:
        return {**message, "AlarmRule": request["AlarmRule"], "TriggeringChildren": _triggering_children(details)}
    return {**message, "Trigger": _trigger(request)}


def _triggering_children(details: dict[str, Any]) -> list[dict[str, Any]]:
    """A composite's triggering alarms (from its StateReasonData) as its notification lists them."""
    try:
        return [
            {"Arn": child["arn"], "State": {"Value": child["state"]["value"], "Timestamp": child["state"]["timestamp"]}}
            for child in json.loads(details.get("reason_data") or "{}").get("triggeringAlarms", [])
        ]
    except (ValueError, AttributeError, TypeError, KeyError):
        return []  # a state set by hand, with StateReasonData of its own


def _trigger(request: dict[str, Any]) -> dict[str, Any]:
    """A metric alarm notification's ``Trigger``: what the alarm watches."""
    extended = request.get("ExtendedStatistic")
    trigger: dict[str, Any] = {
        "MetricName": request.get("MetricName"),
        "Namespace": request.get("Namespace"),
        "StatisticType": "ExtendedStatistic" if extended else "Statistic",
        "Statistic": extended if extended else str(request.get("Statistic", "")).upper(),
        "Unit": request.get("Unit"),
        "Dimensions": [{"value": item["Value"], "name": item["Name"]} for item in request.get("Dimensions", [])],
        "Period": request.get("Period"),
        "EvaluationPeriods": request.get("EvaluationPeriods"),
        "DatapointsToAlarm": request.get("DatapointsToAlarm", request.get("EvaluationPeriods")),
        "ComparisonOperator": request.get("ComparisonOperator"),
        "Threshold": request.get("Threshold"),
        "TreatMissingData": request.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": request.get("EvaluateLowSampleCountPercentile", ""),
    }
    if request.get("Metrics"):
        trigger["Metrics"] = request["Metrics"]
    return trigger


@cache
def region_description(region: str) -> str:
    """``US East (N. Virginia)`` for ``us-east-1``, as alarm notifications name regions."""
    for partition in botocore.session.get_session().get_data("endpoints")["partitions"]:
        if region in partition["regions"]:
            return str(partition["regions"][region].get("description", region))
    return region
