"""CloudWatch composite alarms through boto3: a rule over other alarms' states, evaluated
after the metric alarms (every second on the private server) and at once after SetAlarmState,
with CloudWatch's reasons, history and actions; DescribeAlarms' types, children and parents;
what PutCompositeAlarm and DeleteAlarms refuse."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.protocols import client_speaking
from shipyard.testing.webhook import Webhook

#: Seconds an evaluation-driven state change may take to show (evaluations run every second).
SETTLE_S = 20
BOTH = ["MetricAlarm", "CompositeAlarm"]


@pytest.fixture(scope="module")
def alarm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    env = {"SHIPYARD_ALARM_EVALUATION_SECONDS": "1"}
    with start_server(tmp_path_factory.mktemp("server-composite-alarms"), extra_env=env) as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def put_child(cloudwatch: Any, name: str, namespace: str = "Quiet", **changes: Any) -> str:
    """A metric alarm on Latency > 3; ``ignore`` keeps a state set by hand while no data comes. Its ARN."""
    args: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": namespace,
        "MetricName": "Latency",
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 3.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "ignore",
        **changes,
    }
    cloudwatch.put_metric_alarm(**args)
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]


def composite(cloudwatch: Any, name: str) -> dict[str, Any]:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    return alarm


def wait_for_state(cloudwatch: Any, name: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_S
    while (alarm := composite(cloudwatch, name))["StateValue"] != state:
        assert time.monotonic() < deadline, f"composite {name} stayed {alarm['StateValue']}: {alarm['StateReason']}"
        time.sleep(0.2)
    return alarm


def history(cloudwatch: Any, name: str, kind: str, **args: Any) -> list[dict[str, Any]]:
    return cloudwatch.describe_alarm_history(
        AlarmName=name, HistoryItemType=kind, AlarmTypes=["CompositeAlarm"], ScanBy="TimestampAscending", **args
    )["AlarmHistoryItems"]


def set_state(cloudwatch: Any, name: str, state: str) -> None:
    cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason="by hand")


def test_composite_follows_its_children_and_runs_its_actions(alarm_server: RunningServer, webhook: Webhook):
    cloudwatch = alarm_server.client("cloudwatch")
    cpu, disk, name = unique("cpu"), unique("disk"), unique("any")
    put_child(cloudwatch, cpu)
    disk_arn = put_child(cloudwatch, disk)
    rule = f'ALARM("{cpu}") OR (ALARM({disk_arn}) AND TRUE)'
    cloudwatch.put_composite_alarm(
        AlarmName=name, AlarmRule=rule, AlarmDescription="page me", AlarmActions=[webhook.url], OKActions=[webhook.url]
    )
    # Both children are INSUFFICIENT_DATA: the first evaluation finds the rule FALSE.
    ok = wait_for_state(cloudwatch, name, "OK")
    assert (ok["AlarmRule"], ok["AlarmDescription"]) == (rule, "page me")
    first = webhook.next()
    assert (first["OldStateValue"], first["NewStateValue"], first["AlarmRule"]) == ("INSUFFICIENT_DATA", "OK", rule)
    assert "Trigger" not in first

    set_state(cloudwatch, cpu, "ALARM")
    alarm = composite(cloudwatch, name)  # SetAlarmState re-evaluates the parents at once
    cpu_arn = cloudwatch.describe_alarms(AlarmNames=[cpu])["MetricAlarms"][0]["AlarmArn"]
    assert alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith(f"{cpu_arn} transitioned to ALARM at ")
    assert alarm["StateReason"].endswith(" UTC")
    (triggering,) = json.loads(alarm["StateReasonData"])["triggeringAlarms"]
    assert (triggering["arn"], triggering["state"]["value"]) == (cpu_arn, "ALARM")
    message = webhook.next()
    assert (message["AlarmName"], message["OldStateValue"], message["NewStateValue"]) == (name, "OK", "ALARM")
    assert message["NewStateReason"] == alarm["StateReason"]
    assert message["AlarmDescription"] == "page me"
    assert [child["Arn"] for child in message["TriggeringChildren"]] == [cpu_arn]
    assert message["TriggeringChildren"][0]["State"]["Value"] == "ALARM"

    set_state(cloudwatch, cpu, "OK")
    assert composite(cloudwatch, name)["StateValue"] == "OK"
    assert webhook.next()["NewStateValue"] == "OK"

    updates = history(cloudwatch, name, "StateUpdate")
    assert [item["HistorySummary"] for item in updates] == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    assert {item["AlarmType"] for item in updates} == {"CompositeAlarm"}
    assert json.loads(updates[1]["HistoryData"])["newState"]["stateReasonData"]["triggeringAlarms"][0]["arn"] == cpu_arn
    (created,) = history(cloudwatch, name, "ConfigurationUpdate")
    assert created["HistorySummary"] == f'Alarm "{name}" created'
    # DescribeAlarmHistory returns metric alarms' items unless asked for composites'.
    assert cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"] == []
    deadline = time.monotonic() + SETTLE_S
    while len(actions := history(cloudwatch, name, "Action")) < 3:
        assert time.monotonic() < deadline, f"{len(actions)} action items"
        time.sleep(0.2)
    assert {item["HistorySummary"] for item in actions} == {f"Successfully executed action {webhook.url}"}


def test_composite_of_composites_follows_a_metric_within_one_evaluation(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    namespace, latency, inner, outer = unique("Shop"), unique("latency"), unique("inner"), unique("outer")
    put_child(cloudwatch, latency, namespace, TreatMissingData="missing")
    cloudwatch.put_composite_alarm(AlarmName=inner, AlarmRule=f"ALARM({latency})")
    cloudwatch.put_composite_alarm(AlarmName=outer, AlarmRule=f"ALARM({inner}) AND NOT INSUFFICIENT_DATA({latency})")
    wait_for_state(cloudwatch, outer, "OK")

    moment = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    cloudwatch.put_metric_data(
        Namespace=namespace, MetricData=[{"MetricName": "Latency", "Timestamp": moment, "Value": 9.0}]
    )
    alarm = wait_for_state(cloudwatch, outer, "ALARM")
    inner_alarm = composite(cloudwatch, inner)
    assert inner_alarm["StateValue"] == "ALARM"
    assert alarm["StateReason"].startswith(f"{inner_alarm['AlarmArn']} transitioned to ALARM at ")
    # The metric alarm, its parent and theirs changed in one evaluation: the same second at most.
    latency_alarm = cloudwatch.describe_alarms(AlarmNames=[latency])["MetricAlarms"][0]
    assert alarm["StateTransitionedTimestamp"] - latency_alarm["StateTransitionedTimestamp"] < timedelta(seconds=1)


def test_a_state_set_by_hand_stays_until_a_child_changes(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    child, name = unique("child"), unique("parent")
    put_child(cloudwatch, child)
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=f"ALARM({child})")
    wait_for_state(cloudwatch, name, "OK")
    set_state(cloudwatch, name, "ALARM")
    time.sleep(2.5)  # two evaluations or more
    kept = composite(cloudwatch, name)
    assert (kept["StateValue"], kept["StateReason"]) == ("ALARM", "by hand")

    set_state(cloudwatch, child, "OK")  # a change of the child's state, the rule still FALSE
    back = composite(cloudwatch, name)
    assert back["StateValue"] == "OK"
    assert " transitioned to OK at " in back["StateReason"]


def test_an_update_keeps_the_state_and_is_evaluated_again(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    child, name = unique("child"), unique("parent")
    put_child(cloudwatch, child)
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=f"ALARM({child})", Tags=[{"Key": "team", "Value": "ml"}])
    wait_for_state(cloudwatch, name, "OK")
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=f"INSUFFICIENT_DATA({child})", ActionsEnabled=False)
    alarm = wait_for_state(cloudwatch, name, "ALARM")
    assert alarm["ActionsEnabled"] is False
    updated = history(cloudwatch, name, "ConfigurationUpdate")[-1]
    assert updated["HistorySummary"] == f'Alarm "{name}" updated'
    data = json.loads(updated["HistoryData"])
    assert (data["originalUpdatedAlarm"]["alarmRule"], data["updatedAlarm"]["alarmRule"]) == (
        f"ALARM({child})",
        f"INSUFFICIENT_DATA({child})",
    )
    tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
    assert tags == [{"Key": "team", "Value": "ml"}]


# The API itself, on both metadata backends.


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"AlarmRule": "ALARM({child}) AND"}, "ValidationError", "Error in AlarmRule [Unexpected end of rule"),
        ({"AlarmRule": "ALARM({child}) XOR TRUE"}, "ValidationError", "Unsupported token 'XOR' at char"),
        ({"AlarmRule": "ALARM({child}) OR OK(nobody-here)"}, "ValidationError", "alarms [nobody-here] in the alarm rule do not exist"),
        ({"AlarmRule": "ALARM(arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{child})"}, "ValidationError", "do not exist"),
        ({"ActionsSuppressor": "{child}", "ActionsSuppressorWaitPeriod": 60}, "ValidationError", "ActionsSuppressor is not supported"),
        ({"AlarmActions": ["arn:aws:lambda:us-east-1:123456789012:function:page"]}, "ValidationError", "not supported"),
        ({"AlarmName": "{child}"}, "ValidationError", "is a MetricAlarm"),
    ],
)
def test_put_composite_alarm_refuses_what_cloudwatch_refuses(server: RunningServer, changes, code, words):
    cloudwatch = server.client("cloudwatch")
    child, name = unique("child"), unique("invalid")
    put_child(cloudwatch, child)
    args = {"AlarmName": name, "AlarmRule": "ALARM({child})", **changes}
    args = {key: value.format(child=child) if isinstance(value, str) else value for key, value in args.items()}
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_composite_alarm(**args)
    error = caught.value.response["Error"]
    assert (error["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, 400)
    assert words in error["Message"]
    assert cloudwatch.describe_alarms(AlarmNames=[name], AlarmTypes=BOTH)["CompositeAlarms"] == []
    assert cloudwatch.describe_alarms(AlarmNames=[child])["MetricAlarms"][0]["Namespace"] == "Quiet"
    cloudwatch.delete_alarms(AlarmNames=[child])


def test_cycles_and_names_of_the_other_type_are_refused(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    child, first, second = unique("child"), unique("first"), unique("second")
    put_child(cloudwatch, child)
    cloudwatch.put_composite_alarm(AlarmName=first, AlarmRule=f"ALARM({child})")
    cloudwatch.put_composite_alarm(AlarmName=second, AlarmRule=f"ALARM({first})")
    for rule, cycle in ((f"ALARM({second})", f"{first} -> {second} -> {first}"), (f"OK({first})", f"{first} -> {first}")):
        with pytest.raises(ClientError) as caught:
            cloudwatch.put_composite_alarm(AlarmName=first, AlarmRule=rule)
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert caught.value.response["Error"]["Message"].endswith(f"would make a cycle: {cycle}")
    assert composite(cloudwatch, first)["AlarmRule"] == f"ALARM({child})"

    with pytest.raises(ClientError) as caught:
        put_child(cloudwatch, first)
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert "is a CompositeAlarm" in caught.value.response["Error"]["Message"]
    assert "MetricName" not in json.dumps(composite(cloudwatch, first), default=str)
    cloudwatch.delete_alarms(AlarmNames=[second])
    cloudwatch.delete_alarms(AlarmNames=[first, child])


def test_describe_children_parents_types_and_delete(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    prefix = unique("family")
    cpu, disk, inner, outer = (f"{prefix}-{part}" for part in ("cpu", "disk", "inner", "outer"))
    put_child(cloudwatch, cpu)
    put_child(cloudwatch, disk)
    cloudwatch.put_composite_alarm(AlarmName=inner, AlarmRule=f"ALARM({cpu}) OR ALARM({disk})")
    cloudwatch.put_composite_alarm(
        AlarmName=outer, AlarmRule=f"ALARM({inner}) AND OK({cpu})", AlarmActions=["https://hooks.example.com/ops"]
    )

    metric_only = cloudwatch.describe_alarms(AlarmNamePrefix=prefix)
    assert [alarm["AlarmName"] for alarm in metric_only["MetricAlarms"]] == [cpu, disk]
    assert metric_only.get("CompositeAlarms", []) == []
    both = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=BOTH)
    assert [alarm["AlarmName"] for alarm in both["MetricAlarms"]] == [cpu, disk]
    assert [alarm["AlarmName"] for alarm in both["CompositeAlarms"]] == [inner, outer]
    shape = both["CompositeAlarms"][1]
    account = server.client("sts").get_caller_identity()["Account"]
    assert shape["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{outer}"
    assert shape["AlarmRule"] == f"ALARM({inner}) AND OK({cpu})"
    assert shape["ActionsEnabled"] is True and shape["AlarmActions"] == ["https://hooks.example.com/ops"]
    assert shape["OKActions"] == [] and shape["StateValue"] in ("INSUFFICIENT_DATA", "OK")
    assert isinstance(shape["AlarmConfigurationUpdatedTimestamp"], datetime)
    assert isinstance(shape["StateTransitionedTimestamp"], datetime)
    hooked = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=BOTH, ActionPrefix="https://hooks.")
    assert [alarm["AlarmName"] for alarm in hooked["CompositeAlarms"]] == [outer] and hooked["MetricAlarms"] == []
    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, AlarmTypes=BOTH, PaginationConfig={"PageSize": 3}
    )
    assert [len(page["MetricAlarms"]) + len(page["CompositeAlarms"]) for page in pages] == [3, 1]

    children = cloudwatch.describe_alarms(ChildrenOfAlarmName=outer)
    assert [alarm["AlarmName"] for alarm in children["MetricAlarms"]] == [cpu]
    assert [alarm["AlarmName"] for alarm in children["CompositeAlarms"]] == [inner]
    assert set(children["MetricAlarms"][0]) == {"AlarmName", "AlarmArn", "StateValue", "StateUpdatedTimestamp"}
    parents = cloudwatch.describe_alarms(ParentsOfAlarmName=cpu)
    assert [alarm["AlarmName"] for alarm in parents["CompositeAlarms"]] == [inner, outer]
    assert set(parents["CompositeAlarms"][0]) == {"AlarmName", "AlarmArn"}
    assert cloudwatch.describe_alarms(ParentsOfAlarmName=outer)["CompositeAlarms"] == []
    only_metric = cloudwatch.describe_alarms(ChildrenOfAlarmName=outer, AlarmTypes=["MetricAlarm"])
    assert [alarm["AlarmName"] for alarm in only_metric["MetricAlarms"]] == [cpu] and "CompositeAlarms" not in only_metric
    with pytest.raises(ClientError) as caught:
        cloudwatch.describe_alarms(ChildrenOfAlarmName=outer, AlarmNamePrefix=prefix)
    assert caught.value.response["Error"]["Code"] == "ValidationError"

    for names, words in (([cpu], f"Cannot delete {cpu} as there are composite alarm(s) depending on it."), ([inner, outer], "one composite alarm")):
        with pytest.raises(ClientError) as caught:
            cloudwatch.delete_alarms(AlarmNames=names)
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert words in caught.value.response["Error"]["Message"]
    assert len(cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=BOTH)["CompositeAlarms"]) == 2

    cloudwatch.delete_alarms(AlarmNames=[outer])
    cloudwatch.delete_alarms(AlarmNames=[inner, cpu, disk])  # a composite goes with its children
    remaining = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=BOTH)
    assert remaining["MetricAlarms"] == [] and remaining["CompositeAlarms"] == []
    (deleted,) = cloudwatch.describe_alarm_history(
        AlarmName=inner, AlarmTypes=["CompositeAlarm"], HistoryItemType="ConfigurationUpdate", MaxRecords=1
    )["AlarmHistoryItems"]
    assert (deleted["HistorySummary"], deleted["AlarmType"]) == (f'Alarm "{inner}" deleted', "CompositeAlarm")


def test_composite_alarms_over_the_query_protocol(sqlite_server: RunningServer):
    cloudwatch = client_speaking(sqlite_server, "cloudwatch", "query")
    child, name = unique("child"), unique("wire")
    put_child(cloudwatch, child)
    cloudwatch.put_composite_alarm(AlarmName=name, AlarmRule=f'ALARM("{child}")', Tags=[{"Key": "team", "Value": "ml"}])
    wait_for_state(cloudwatch, name, "OK")  # evaluated once (PutCompositeAlarm wakes the evaluator)
    set_state(cloudwatch, name, "ALARM")
    alarm = composite(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReason"], alarm["AlarmRule"]) == ("ALARM", "by hand", f'ALARM("{child}")')
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime)
    assert cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ml"}]
    parents = cloudwatch.describe_alarms(ParentsOfAlarmName=child)["CompositeAlarms"]
    assert [parent["AlarmName"] for parent in parents] == [name]
    cloudwatch.delete_alarms(AlarmNames=[name, child])
