"""Alarms: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms, DescribeAlarmsForMetric,
DeleteAlarms, SetAlarmState, DescribeAlarmHistory, Enable/DisableAlarmActions and the alarms' tags.

Metric alarms watch one metric with a standard or an extended statistic (p99, tm90...), or one time
series of metric math (``Metrics``, evaluated by :mod:`shipyard.monitoring.expressions`); anomaly
detection bands are refused with a ``ValidationError``. Composite alarms follow a rule over other
alarms' states (:mod:`shipyard.monitoring.alarms.alarm_rule`). Metric and composite alarms share
one namespace of names per region. State is evaluated by
:class:`~shipyard.monitoring.alarms.AlarmEvaluator` on the server's loop.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.alarms import (
    Alarm,
    AlarmEvaluator,
    AlarmStore,
    HistoryItem,
    HistoryQuery,
)
from shipyard.monitoring.alarms.alarm_rule import RuleError, parse, references
from shipyard.monitoring.alarms.composite import Family
from shipyard.monitoring.alarms.evaluation import (
    COMPARISONS,
    INSUFFICIENT_DATA,
    TREATMENTS,
)
from shipyard.monitoring.alarms.evaluator import period_of
from shipyard.monitoring.alarms.records import COMPOSITE_ALARM, KIND, METRIC_ALARM
from shipyard.monitoring.errors import not_found, validation_error
from shipyard.monitoring.expressions import evaluate_queries
from shipyard.monitoring.histogram import percentile
from shipyard.monitoring.statistics import STATISTICS, is_statistic
from shipyard.services.base import RequestContext, ServiceRouter
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms, to_datetime

router = ServiceRouter("cloudwatch")

#: DescribeAlarms' and DescribeAlarmHistory's default page sizes.
ALARMS_PAGE = 50
HISTORY_PAGE = 100
#: EvaluationPeriods * Period may span a day, or 7 days for periods of an hour or more.
DAY_S = 86_400
WEEK_S = 7 * DAY_S
#: Members of PutMetricAlarm this server does not evaluate.
UNSERVED = (
    "ThresholdMetricId",
    "EvaluationWindow",
    "WarmUpConfiguration",
    "EvaluationCriteria",
    "EvaluationInterval",
    "ActionConfiguration",
)
#: Members of PutCompositeAlarm this server does not serve: it does not suppress actions.
COMPOSITE_UNSERVED = (
    "ActionsSuppressor",
    "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod",
    "ActionConfiguration",
)
#: How many composite alarms' rules one alarm may be in.
MAX_PARENTS = 150
ACTION_LISTS = ("OKActions", "AlarmActions", "InsufficientDataActions")
#: DescribeAlarms' filters that ChildrenOfAlarmName and ParentsOfAlarmName exclude.
ALARM_FILTERS = ("AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix")
#: Members of a single-metric alarm, which an alarm on ``Metrics`` must leave out.
SINGLE_METRIC = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit")
#: Optional members copied as sent into MetricAlarm.
OPTIONAL = (
    "MetricName",
    "Namespace",
    "Dimensions",
    "Period",
    "Metrics",
    "AlarmDescription",
    "Statistic",
    "ExtendedStatistic",
    "Unit",
    "DatapointsToAlarm",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
)


def _evaluator(ctx: RequestContext) -> AlarmEvaluator:
    return ctx.runtime.alarms


@router.operation("PutMetricAlarm")
async def put_metric_alarm(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    evaluator = _evaluator(ctx)
    _check_alarm(params)
    if params.get("Metrics"):
        # A dry run over one period surfaces CloudWatch's errors for the queries themselves.
        now = now_ms()
        await evaluate_queries(ctx.runtime.metrics, ctx.region, params["Metrics"], now - period_of(params) * 1000, now)
    _check_actions(evaluator, params)
    existing = await evaluator.store.get(KIND, ctx.region, params["AlarmName"])
    if existing is not None and existing.is_composite:
        raise _name_taken(existing, "PutMetricAlarm")
    if not await _save(ctx, existing, params):  # created or deleted meanwhile: try again as the other
        return await put_metric_alarm(ctx, params)
    evaluator.wake()
    return {}


@router.operation("PutCompositeAlarm")
async def put_composite_alarm(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    evaluator = _evaluator(ctx)
    for member in COMPOSITE_UNSERVED:
        if params.get(member) is not None:
            raise validation_error(
                f"Shipyard does not suppress or reconfigure the actions of composite alarms: {member} is not supported."
            )
    for member in ("AlarmName", "AlarmRule"):
        if not params.get(member):
            raise AwsError("MissingParameter", f"The parameter {member} is required.", 400)
    try:
        rule = parse(params["AlarmRule"])
    except RuleError as error:
        raise validation_error(str(error)) from None
    _check_actions(evaluator, params)
    name, store = params["AlarmName"], evaluator.store
    family = Family(await store.in_region(ctx.region))
    existing = await store.get(KIND, ctx.region, name)
    if existing is not None and not existing.is_composite:
        raise _name_taken(existing, "PutCompositeAlarm")
    _check_children(family.with_rule(name, rule), name)
    if not await _save(ctx, existing, params):  # created or deleted meanwhile: try again as the other
        return await put_composite_alarm(ctx, params)
    evaluator.wake()
    return {}


async def _save(ctx: RequestContext, existing: Alarm | None, params: dict[str, Any]) -> bool:
    """Create the alarm ``params`` describe, or replace ``existing``'s configuration; False
    when it was created or deleted meanwhile (the caller tries again)."""
    store = _evaluator(ctx).store
    request = {member: value for member, value in params.items() if member != "Tags"}
    if existing is None:
        return await _create(ctx, store, request, params.get("Tags") or [])
    return await _update(store, existing, request)


def _check_actions(evaluator: AlarmEvaluator, params: dict[str, Any]) -> None:
    for member in ACTION_LISTS:
        for action in params.get(member) or []:
            if (problem := evaluator.actions.problem(action)) is not None:
                raise validation_error(problem)


def _check_children(family: Family, name: str) -> None:
    """Refuse a rule (composite ``name``'s in ``family``) that names alarms that do not
    exist, makes a cycle, or names an alarm already in :data:`MAX_PARENTS` other rules."""
    rule = family.rule(name)
    if missing := [reference for reference in references(rule) if family.resolve(reference) is None]:
        raise validation_error(
            f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm rule do not exist"
        )
    if cycle := family.cycle_through(name):
        raise validation_error(
            f"Could not save the composite alarm as its alarm rule would make a cycle: {' -> '.join(cycle)}"
        )
    for child in family.children(name):
        if len([parent for parent in family.parents(child) if parent != name]) >= MAX_PARENTS:
            raise AwsError(
                "LimitExceeded",
                f"The alarm {child} is in the rules of {MAX_PARENTS} composite alarms already, the most there can be.",
                400,
            )


def _name_taken(existing: Alarm, operation: str) -> AwsError:
    """The error for ``operation`` on the name of an alarm of the other type."""
    return validation_error(
        f"The alarm {existing.name} is a {existing.alarm_type}: alarm names are unique across metric and"
        f" composite alarms in a Region, so {operation} cannot use this name."
    )


async def _create(ctx: RequestContext, store: AlarmStore, request: dict[str, Any], tags: list[dict[str, str]]) -> bool:
    """Create the alarm ``request`` describes, in INSUFFICIENT_DATA; False if the name is taken."""
    name, now = request["AlarmName"], now_ms()
    alarm = Alarm(
        id=0,
        kind=KIND,
        region=ctx.region,
        name=name,
        arn=f"arn:aws:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{name}",
        status=INSUFFICIENT_DATA,
        request=request,
        details={
            "reason": "Unchecked: Initial alarm creation",
            "reason_data": "",
            "updated_ms": now,
            "transitioned_ms": now,
            "configured_ms": now,
            "tags": {tag["Key"]: tag["Value"] for tag in tags},
        },
        created_ms=now,
        modified_ms=now,
    )
    try:
        await store.create(alarm)
    except RecordExists:
        return False
    data = {"version": "1.0", "type": "Create", "createdAlarm": _configuration(request)}
    summary = f'Alarm "{name}" created'
    await store.record([HistoryItem(ctx.region, name, now, "ConfigurationUpdate", summary, data, alarm.alarm_type)])
    return True


async def _update(store: AlarmStore, existing: Alarm, request: dict[str, Any]) -> bool:
    """Replace ``existing``'s configuration; its state and tags stay (Tags apply to new
    alarms only, as in CloudWatch). False if it was deleted meanwhile."""
    now = now_ms()

    def replace(record: Alarm) -> dict[str, Any]:
        before = record.request
        record.request = request
        record.details["configured_ms"] = now
        return before

    try:
        _, before = await store.mutate(existing.id, replace)
    except LookupError:
        return False
    data = {
        "version": "1.0",
        "type": "Update",
        "originalUpdatedAlarm": _configuration(before),
        "updatedAlarm": _configuration(request),
    }
    summary = f'Alarm "{existing.name}" updated'
    await store.record(
        [HistoryItem(existing.region, existing.name, now, "ConfigurationUpdate", summary, data, existing.alarm_type)]
    )
    return True


@router.operation("DescribeAlarms")
async def describe_alarms(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("AlarmNames") and params.get("AlarmNamePrefix"):
        raise AwsError(
            "InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be specified together.", 400
        )
    children_of, parents_of = params.get("ChildrenOfAlarmName"), params.get("ParentsOfAlarmName")
    related = children_of or parents_of
    if related:
        _check_related(params)
    # Metric alarms only unless asked, as in CloudWatch; children and parents are of both types.
    types = params.get("AlarmTypes") or ([METRIC_ALARM, COMPOSITE_ALARM] if related else [METRIC_ALARM])
    found = await _evaluator(ctx).store.in_region(ctx.region)
    if related:
        family = Family(found)
        if children_of:
            kin = family.children(children_of) if family.is_composite(children_of) else []
        else:
            kin = family.parents(parents_of)
        found = [family[name] for name in sorted(kin)]
    found = [alarm for alarm in found if alarm.alarm_type in types]
    if names := params.get("AlarmNames"):
        found = [alarm for alarm in found if alarm.name in names]
    if prefix := params.get("AlarmNamePrefix"):
        found = [alarm for alarm in found if alarm.name.startswith(prefix)]
    if state := params.get("StateValue"):
        found = [alarm for alarm in found if alarm.status == state]
    if action_prefix := params.get("ActionPrefix"):
        found = [
            alarm
            for alarm in found
            if any(action.startswith(action_prefix) for member in ACTION_LISTS for action in alarm.request.get(member) or [])
        ]
    if token := params.get("NextToken"):
        after = _decode_token(token)
        found = [alarm for alarm in found if alarm.name > after]
    limit = params.get("MaxRecords") or ALARMS_PAGE
    page = found[:limit]
    if children_of:
        metric_shape = composite_shape = _child_alarm
    elif parents_of:
        metric_shape = composite_shape = _parent_alarm
    else:
        metric_shape, composite_shape = _metric_alarm, _composite_alarm
    output: dict[str, Any] = {"MetricAlarms": [metric_shape(alarm) for alarm in page if not alarm.is_composite]}
    if COMPOSITE_ALARM in types:
        output["CompositeAlarms"] = [composite_shape(alarm) for alarm in page if alarm.is_composite]
    if len(found) > limit:
        output["NextToken"] = _encode_token(found[limit - 1].name)
    return output


def _check_related(params: dict[str, Any]) -> None:
    """ChildrenOfAlarmName and ParentsOfAlarmName take no other filter."""
    given = [member for member in ALARM_FILTERS if params.get(member)]
    which = "ChildrenOfAlarmName" if params.get("ChildrenOfAlarmName") else "ParentsOfAlarmName"
    if which == "ChildrenOfAlarmName" and params.get("ParentsOfAlarmName"):
        given.append("ParentsOfAlarmName")
    if given:
        raise validation_error(
            f"If {which} is specified, no other parameter but AlarmTypes, MaxRecords and NextToken can be"
            f" specified: remove {', '.join(given)}."
        )


@router.operation("DescribeAlarmsForMetric")
async def describe_alarms_for_metric(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    dimensions = _dimension_set(params.get("Dimensions"))
    matching = []
    for alarm in await _evaluator(ctx).store.in_region(ctx.region):
        request = alarm.request
        if alarm.is_composite:
            continue
        if (request.get("Namespace"), request.get("MetricName")) != (params["Namespace"], params["MetricName"]):
            continue
        if "Dimensions" in params and _dimension_set(request.get("Dimensions")) != dimensions:
            continue
        if any(params.get(member) not in (None, request.get(member)) for member in ("Statistic", "ExtendedStatistic", "Period", "Unit")):
            continue
        matching.append(_metric_alarm(alarm))
    return {"MetricAlarms": matching}


@router.operation("DeleteAlarms")
async def delete_alarms(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    store = _evaluator(ctx).store
    found: list[Alarm] = []
    missing: list[str] = []
    for name in dict.fromkeys(params["AlarmNames"]):
        alarm = await store.get(KIND, ctx.region, name)
        if alarm is None:
            missing.append(name)
        else:
            found.append(alarm)
    if sum(alarm.is_composite for alarm in found) > 1:
        raise validation_error("DeleteAlarms can delete no more than one composite alarm at a time.")
    family = Family(await store.in_region(ctx.region))
    deleted = {alarm.name for alarm in found}
    for alarm in found:
        if any(parent not in deleted for parent in family.parents(alarm.name)):
            raise validation_error(f"Cannot delete {alarm.name} as there are composite alarm(s) depending on it.")
    now = now_ms()
    history = []
    for alarm in found:
        if await store.delete(alarm.id):
            data = {"version": "1.0", "type": "Delete", "deletedAlarm": _configuration(alarm.request)}
            summary = f'Alarm "{alarm.name}" deleted'
            history.append(HistoryItem(ctx.region, alarm.name, now, "ConfigurationUpdate", summary, data, alarm.alarm_type))
    await store.record(history)
    if missing:
        # As CloudWatch documents: the alarms named right are deleted all the same.
        raise not_found(f"{len(missing)} alarm(s) not found: [{', '.join(missing)}]")
    return {}


@router.operation("SetAlarmState")
async def set_alarm_state(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    evaluator = _evaluator(ctx)
    name = params["AlarmName"]
    reason_data = params.get("StateReasonData") or ""
    if reason_data:
        try:
            json.loads(reason_data)
        except ValueError:
            raise AwsError("InvalidFormat", "StateReasonData is not valid JSON.", 400) from None
    alarm = await evaluator.store.get(KIND, ctx.region, name)
    if alarm is None or await evaluator.set_state(alarm, params["StateValue"], params["StateReason"], reason_data) is None:
        raise not_found(f"Alarm {name} not found")
    await evaluator.evaluate_composites(ctx.region)  # its parents follow at once
    return {}


@router.operation("DescribeAlarmHistory")
async def describe_alarm_history(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    limit = params.get("MaxRecords") or HISTORY_PAGE
    after = None
    if token := params.get("NextToken"):
        position = _decode_token(token)
        try:
            stamp, row_id = (int(part) for part in position.split(":"))
        except ValueError:
            raise AwsError("InvalidNextToken", "The NextToken is not valid.", 400) from None
        after = (stamp, row_id)
    query = HistoryQuery(
        region=ctx.region,
        alarm_name=params.get("AlarmName"),
        alarm_types=tuple(params.get("AlarmTypes") or [METRIC_ALARM]),
        item_type=params.get("HistoryItemType"),
        start_ms=_epoch_ms(params["StartDate"]) if params.get("StartDate") else None,
        end_ms=_epoch_ms(params["EndDate"]) if params.get("EndDate") else None,
        newest_first=params.get("ScanBy", "TimestampDescending") == "TimestampDescending",
        after=after,
        limit=limit,
    )
    items = await _evaluator(ctx).store.history(query)
    output: dict[str, Any] = {
        "AlarmHistoryItems": [
            {
                "AlarmName": item.alarm_name,
                "AlarmType": item.alarm_type,
                "Timestamp": to_datetime(item.timestamp_ms),
                "HistoryItemType": item.item_type,
                "HistorySummary": item.summary,
                "HistoryData": json.dumps(item.data, separators=(",", ":")),
            }
            for item in items[:limit]
        ]
    }
    if len(items) > limit:
        last = items[limit - 1]
        output["NextToken"] = _encode_token(f"{last.timestamp_ms}:{last.id}")
    return output


@router.operation("EnableAlarmActions")
async def enable_alarm_actions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await _set_actions_enabled(ctx, params["AlarmNames"], True)
    return {}


@router.operation("DisableAlarmActions")
async def disable_alarm_actions(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
    await _set_actions_enabled(ctx, params["AlarmNames"], False)
    return {}


def _check_alarm(params: dict[str, Any]) -> None:
    """Refuse what CloudWatch refuses, and what Shipyard does not evaluate, before anything changes."""
    for member in UNSERVED:
        if params.get(member) is not None:
            raise validation_error(
                f"Shipyard evaluates alarms on one metric and a static threshold: {member} is not supported."
                " Use MetricName, Namespace, Statistic or ExtendedStatistic, Period and Threshold."
            )
    operator = params.get("ComparisonOperator")
    if operator is not None and operator not in COMPARISONS:
        raise validation_error(
            f"ComparisonOperator {operator} compares with an anomaly detection band, which Shipyard does not serve."
        )
    metrics = params.get("Metrics")
    required = ["EvaluationPeriods", "ComparisonOperator", "Threshold"]
    if metrics:
        if given := [member for member in SINGLE_METRIC if params.get(member) is not None]:
            raise validation_error(f"Metrics cannot be specified together with {', '.join(given)}.")
        if not any(query.get("MetricStat") for query in metrics):
            raise validation_error("Metrics must hold at least one query with a MetricStat.")
        if sum(bool(query.get("ReturnData", True)) for query in metrics) != 1:
            raise validation_error("Exactly one element of the Metrics list must have ReturnData set to true.")
    else:
        required[:0] = ["MetricName", "Namespace", "Period"]
    for member in required:
        if params.get(member) is None:
            raise AwsError("MissingParameter", f"The parameter {member} is required.", 400)
    statistic, extended = params.get("Statistic"), params.get("ExtendedStatistic")
    if not metrics and (statistic is None) == (extended is None):
        raise AwsError(
            "InvalidParameterCombination",
            "Exactly one of the parameters Statistic and ExtendedStatistic must be specified.",
            400,
        )
    if extended is not None and (extended in STATISTICS or not is_statistic(extended)):
        raise AwsError(
            "InvalidParameterValue",
            f"The value {extended} for parameter ExtendedStatistic is not valid: use a percentile (p99), a trimmed"
            " mean, count or sum (tm90, TC(10%:90%), TS(:500)), a winsorized mean (wm98), IQM or a percentile rank"
            " (PR(:300)).",
            400,
        )
    period, periods = period_of(params), params["EvaluationPeriods"]
    if period not in (10, 30) and period % 60:
        raise validation_error("Period must be 10, 30 or a multiple of 60.")
    if period >= 3600 and period * periods > WEEK_S:
        raise validation_error(
            f"Metrics cannot be checked across more than 7 days (EvaluationPeriods * Period must be <= {WEEK_S})."
        )
    if period < 3600 and period * periods > DAY_S:
        raise validation_error(
            f"Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= {DAY_S})."
        )
    if params.get("DatapointsToAlarm", 1) > periods:
        raise validation_error("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
    treatment = params.get("TreatMissingData")
    if treatment is not None and treatment not in TREATMENTS:
        raise validation_error(f"TreatMissingData must be one of: {', '.join(TREATMENTS)}.")
    low_samples = params.get("EvaluateLowSampleCountPercentile")
    if low_samples is not None:
        if low_samples not in ("evaluate", "ignore"):
            raise validation_error("EvaluateLowSampleCountPercentile must be one of: evaluate, ignore.")
        if extended is None or percentile(extended) is None:
            raise validation_error("EvaluateLowSampleCountPercentile can only be used with a percentile ExtendedStatistic.")


def _alarm_shape(alarm: Alarm) -> dict[str, Any]:
    """The members MetricAlarm and CompositeAlarm share."""
    request, details = alarm.request, alarm.details
    shape: dict[str, Any] = {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.arn,
        "AlarmConfigurationUpdatedTimestamp": to_datetime(details["configured_ms"]),
        "ActionsEnabled": alarm.actions_enabled,
        **{member: request.get(member) or [] for member in ACTION_LISTS},
        "StateValue": alarm.status,
        "StateReason": details["reason"],
        "StateUpdatedTimestamp": to_datetime(details["updated_ms"]),
        "StateTransitionedTimestamp": to_datetime(details["transitioned_ms"]),
    }
    if details.get("reason_data"):
        shape["StateReasonData"] = details["reason_data"]
    return shape


def _metric_alarm(alarm: Alarm) -> dict[str, Any]:
    """The MetricAlarm shape."""
    request = alarm.request
    shape = _alarm_shape(alarm)
    shape.update({member: request[member] for member in ("EvaluationPeriods", "Threshold", "ComparisonOperator")})
    shape.update({member: request[member] for member in OPTIONAL if request.get(member) is not None})
    return shape


def _composite_alarm(alarm: Alarm) -> dict[str, Any]:
    """The CompositeAlarm shape."""
    shape = _alarm_shape(alarm)
    shape["AlarmRule"] = alarm.request["AlarmRule"]
    if alarm.request.get("AlarmDescription") is not None:
        shape["AlarmDescription"] = alarm.request["AlarmDescription"]
    return shape


def _child_alarm(alarm: Alarm) -> dict[str, Any]:
    """A child as DescribeAlarms' ChildrenOfAlarmName lists it: name, ARN and state."""
    return {
        "AlarmName": alarm.name,
        "AlarmArn": alarm.arn,
        "StateValue": alarm.status,
        "StateUpdatedTimestamp": to_datetime(alarm.details["updated_ms"]),
    }


def _parent_alarm(alarm: Alarm) -> dict[str, Any]:
    """A parent as DescribeAlarms' ParentsOfAlarmName lists it: name and ARN."""
    return {"AlarmName": alarm.name, "AlarmArn": alarm.arn}


def _configuration(request: dict[str, Any]) -> dict[str, Any]:
    """An alarm's configuration inside HistoryData (members in lower camel case, as CloudWatch writes them)."""
    return {name[:1].lower() + name[1:]: value for name, value in request.items()}


def _dimension_set(dimensions: list[dict[str, str]] | None) -> frozenset[tuple[str, str]]:
    return frozenset((item["Name"], item["Value"]) for item in dimensions or [])


async def _set_actions_enabled(ctx: RequestContext, names: list[str], enabled: bool) -> None:
    store = _evaluator(ctx).store

    def switch(record: Alarm) -> None:
        record.request["ActionsEnabled"] = enabled

    for name in names:
        alarm = await store.get(KIND, ctx.region, name)
        if alarm is not None:
            try:
                await store.mutate(alarm.id, switch)
            except LookupError:
                pass  # deleted meanwhile: nothing to switch


async def alarm_by_arn(ctx: RequestContext, arn: str) -> Alarm:
    """The region's alarm (metric or composite) whose ARN is ``arn``; ``ResourceNotFoundException`` if none."""
    alarm = await _evaluator(ctx).store.get_by_arn(arn)
    if alarm is None or alarm.region != ctx.region:
        raise AwsError("ResourceNotFoundException", f"Resource {arn} not found.", 404)
    return alarm


async def change_alarm_tags(ctx: RequestContext, arn: str, change: Callable[[dict[str, str]], None]) -> None:
    """Apply ``change`` to the tags of the alarm whose ARN is ``arn``."""
    alarm = await alarm_by_arn(ctx, arn)

    def apply(record: Alarm) -> None:
        tags = dict(record.details.get("tags", {}))
        change(tags)
        record.details["tags"] = tags

    try:
        await _evaluator(ctx).store.mutate(alarm.id, apply)
    except LookupError:
        raise AwsError("ResourceNotFoundException", f"Resource {arn} not found.", 404) from None


def _epoch_ms(time: datetime) -> int:
    return int(time.timestamp() * 1000)


def _encode_token(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (ValueError, UnicodeError, binascii.Error):
        raise AwsError("InvalidNextToken", "The NextToken is not valid.", 400) from None
