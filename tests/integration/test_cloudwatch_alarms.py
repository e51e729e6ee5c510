"""CloudWatch metric alarms through boto3: configuration, evaluation every second (the
private server's ``alarm_evaluation_seconds``) driven by PutMetricData, history, actions
(a webhook and the administrator's command) and state that survives a restart."""

from __future__ import annotations

import json
import queue
import shlex
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from shipyard.testing import RunningServer, start_server
from shipyard.testing.errors import error_of
from shipyard.testing.identities import allow, create_user
from shipyard.testing.protocols import client_speaking
from shipyard.testing.webhook import Webhook

#: Seconds an evaluation-driven state change may take to show (evaluations run every second).
SETTLE_S = 20


@pytest.fixture(scope="module")
def command_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the administrator's alarm command writes what it received."""
    return tmp_path_factory.mktemp("alarm-command")


def alarm_env(command_dir: Path) -> dict[str, str]:
    """Settings of a server whose alarms evaluate every second and whose command records each call."""
    out = shlex.quote(str(command_dir))
    command = (
        f'cat > {out}/"$SHIPYARD_ALARM_NAME-$SHIPYARD_ALARM_STATE.json"'
        f' && printf %s "$SHIPYARD_ALARM_ACTION" > {out}/"$SHIPYARD_ALARM_NAME-$SHIPYARD_ALARM_STATE.action"'
    )
    return {"SHIPYARD_ALARM_EVALUATION_SECONDS": "1", "SHIPYARD_ALARM_COMMAND": command}


@pytest.fixture(scope="module")
def alarm_server(tmp_path_factory: pytest.TempPathFactory, command_dir: Path) -> Iterator[RunningServer]:
    with start_server(tmp_path_factory.mktemp("server-alarms"), extra_env=alarm_env(command_dir)) as running:
        yield running


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def alarm_args(name: str, namespace: str, **changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": namespace,
        "MetricName": "Latency",
        "Dimensions": [{"Name": "Service", "Value": "checkout"}],
        "Statistic": "Maximum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 3.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    args.update(changes)
    return args


def put(cloudwatch: Any, namespace: str, *points: tuple[datetime, float]) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": "Latency",
                "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                "Timestamp": moment,
                "Value": value,
            }
            for moment, value in points
        ],
    )


def describe(cloudwatch: Any, name: str) -> dict[str, Any]:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarm


def wait_for_state(cloudwatch: Any, name: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_S
    while True:
        alarm = describe(cloudwatch, name)
        if alarm["StateValue"] == state:
            return alarm
        if time.monotonic() > deadline:
            raise AssertionError(f"alarm {name} stayed {alarm['StateValue']}: {alarm['StateReason']}")
        time.sleep(0.2)


def history(cloudwatch: Any, name: str, kind: str, **args: Any) -> list[dict[str, Any]]:
    return cloudwatch.describe_alarm_history(AlarmName=name, HistoryItemType=kind, **args)["AlarmHistoryItems"]


def wait_for_history(cloudwatch: Any, name: str, kind: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + SETTLE_S
    while len(found := history(cloudwatch, name, kind)) < count:
        assert time.monotonic() < deadline, f"{len(found)} {kind} items of {name}, wanted {count}"
        time.sleep(0.2)
    return found


#: The members of a single-metric alarm, left out of one on metric math.
NO_METRIC = {member: None for member in ("MetricName", "Namespace", "Dimensions", "Statistic", "Period")}


def math_queries(expression: str, namespace: str = "Shop", returned: str = "e1") -> list[dict[str, Any]]:
    """Metric math over the Errors and Faults metrics: ``e1`` = ``expression``."""
    queries: list[dict[str, Any]] = [
        {
            "Id": query_id,
            "MetricStat": {
                "Metric": {
                    "Namespace": namespace,
                    "MetricName": metric,
                    "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
        }
        for query_id, metric in (("m1", "Errors"), ("m2", "Faults"))
    ]
    queries.append({"Id": "e1", "Expression": expression, "Label": "Failures"})
    for query in queries:
        query["ReturnData"] = query["Id"] == returned
    return queries


def minutes_ago(count: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0) - timedelta(minutes=count)


def test_alarm_goes_insufficient_data_ok_alarm_ok_and_calls_its_webhook(alarm_server: RunningServer, webhook: Webhook):
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("latency"), unique("Shop")
    cloudwatch.put_metric_alarm(
        **alarm_args(name, namespace, AlarmActions=[webhook.url], OKActions=[webhook.url], AlarmDescription="slow")
    )
    created = describe(cloudwatch, name)
    assert created["StateValue"] == "INSUFFICIENT_DATA"
    assert created["StateReason"] == "Unchecked: Initial alarm creation"

    put(cloudwatch, namespace, (minutes_ago(3), 1.0))
    ok = wait_for_state(cloudwatch, name, "OK")
    assert ok["StateReason"].startswith("Threshold Crossed: 1 datapoint [1.0 (")
    assert ok["StateReason"].endswith(")] was not greater than the threshold (3.0).")
    first = webhook.next()
    assert (first["OldStateValue"], first["NewStateValue"]) == ("INSUFFICIENT_DATA", "OK")

    put(cloudwatch, namespace, (minutes_ago(2), 5.0))
    alarm = wait_for_state(cloudwatch, name, "ALARM")
    assert alarm["StateReason"].endswith(")] was greater than the threshold (3.0).")
    reason = json.loads(alarm["StateReasonData"])
    assert reason["recentDatapoints"] == [5.0]
    assert reason["statistic"] == "Maximum" and reason["threshold"] == 3.0 and reason["period"] == 60
    assert alarm["StateTransitionedTimestamp"] >= ok["StateTransitionedTimestamp"]
    message = webhook.next()
    assert message["AlarmName"] == name
    assert message["AlarmDescription"] == "slow"
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert message["NewStateReason"] == alarm["StateReason"]
    assert message["AlarmArn"] == alarm["AlarmArn"]
    assert message["Region"] == "US East (N. Virginia)"
    assert message["Trigger"]["MetricName"] == "Latency"
    assert message["Trigger"]["Statistic"] == "MAXIMUM"
    assert message["Trigger"]["Dimensions"] == [{"value": "checkout", "name": "Service"}]

    put(cloudwatch, namespace, (minutes_ago(1), 2.0))
    wait_for_state(cloudwatch, name, "OK")
    assert webhook.next()["NewStateValue"] == "OK"

    updates = history(cloudwatch, name, "StateUpdate", ScanBy="TimestampAscending")
    assert [item["HistorySummary"] for item in updates] == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    data = json.loads(updates[1]["HistoryData"])
    assert data["version"] == "1.0"
    assert data["oldState"]["stateValue"] == "OK"
    assert data["newState"]["stateValue"] == "ALARM"
    assert data["newState"]["stateReason"] == alarm["StateReason"]
    assert data["newState"]["stateReasonData"]["recentDatapoints"] == [5.0]
    actions = wait_for_history(cloudwatch, name, "Action", 3)
    assert {item["HistorySummary"] for item in actions} == {f"Successfully executed action {webhook.url}"}


def test_alarm_on_a_percentile_rank(alarm_server: RunningServer):
    """A latency objective: ALARM when fewer than 90 % of a minute's calls took 300 ms or less."""
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("objective"), unique("Shop")
    args = alarm_args(name, namespace, ExtendedStatistic="PR(:300)", Threshold=90.0, ComparisonOperator="LessThanThreshold")
    del args["Statistic"]
    cloudwatch.put_metric_alarm(**args)
    created = describe(cloudwatch, name)
    assert created["ExtendedStatistic"] == "PR(:300)" and "Statistic" not in created

    def latencies(moment: datetime, values: list[float]) -> None:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[{"MetricName": "Latency", "Dimensions": [{"Name": "Service", "Value": "checkout"}], "Timestamp": moment, "Values": values}],
        )

    latencies(minutes_ago(2), [120.0] * 19 + [900.0])
    ok = json.loads(wait_for_state(cloudwatch, name, "OK")["StateReasonData"])
    assert (ok["extendedStatistic"], ok["recentDatapoints"]) == ("PR(:300)", [95.0])
    latencies(minutes_ago(1), [120.0] * 3 + [900.0] * 2)
    alarm = wait_for_state(cloudwatch, name, "ALARM")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [60.0]
    assert alarm["StateReason"].endswith(")] was less than the threshold (90.0).")


def test_m_out_of_n_datapoints(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("m-of-n"), unique("Shop")
    cloudwatch.put_metric_alarm(**alarm_args(name, namespace, EvaluationPeriods=3, DatapointsToAlarm=2))
    put(cloudwatch, namespace, (minutes_ago(4), 5.0), (minutes_ago(3), 1.0))
    wait_for_state(cloudwatch, name, "OK")
    put(cloudwatch, namespace, (minutes_ago(2), 4.0))
    alarm = wait_for_state(cloudwatch, name, "ALARM")
    assert alarm["StateReason"].startswith("Threshold Crossed: 2 out of the last 3 datapoints [4.0 (")
    assert alarm["StateReason"].endswith(
        " were greater than the threshold (3.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [5.0, 1.0, 4.0]


def test_alarm_on_metric_math(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("failures"), unique("Shop")
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Metrics=math_queries("m1 + m2", namespace),
        EvaluationPeriods=1,
        Threshold=5.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    alarm = describe(cloudwatch, name)
    assert [query["Id"] for query in alarm["Metrics"]] == ["m1", "m2", "e1"]
    assert "MetricName" not in alarm and "Period" not in alarm

    def failures(moment: datetime, errors: float, faults: float) -> None:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": metric,
                    "Dimensions": [{"Name": "Service", "Value": "checkout"}],
                    "Timestamp": moment,
                    "Value": value,
                }
                for metric, value in (("Errors", errors), ("Faults", faults))
            ],
        )

    failures(minutes_ago(2), 3.0, 1.0)
    assert json.loads(wait_for_state(cloudwatch, name, "OK")["StateReasonData"])["recentDatapoints"] == [4.0]
    failures(minutes_ago(1), 3.0, 2.0)
    alarm = wait_for_state(cloudwatch, name, "ALARM")
    assert alarm["StateReason"].endswith(")] was greater than or equal to the threshold (5.0).")
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [5.0]


def test_treat_missing_data(alarm_server: RunningServer):
    cloudwatch = alarm_server.client("cloudwatch")
    namespace = unique("Quiet")  # no data is ever put here
    names = {treatment: unique(treatment) for treatment in ("missing", "ignore", "breaching", "notBreaching")}
    for treatment, name in names.items():
        cloudwatch.put_metric_alarm(**alarm_args(name, namespace, TreatMissingData=treatment))

    breaching = wait_for_state(cloudwatch, names["breaching"], "ALARM")
    assert breaching["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as"
        " [Breaching]."
    )
    calm = wait_for_state(cloudwatch, names["notBreaching"], "OK")
    assert calm["StateReason"].endswith("treated as [NonBreaching].")

    # missing: the evaluation takes a state set by hand back to INSUFFICIENT_DATA.
    cloudwatch.set_alarm_state(AlarmName=names["missing"], StateValue="OK", StateReason="by hand")
    unknown = wait_for_state(cloudwatch, names["missing"], "INSUFFICIENT_DATA")
    assert unknown["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
    # ignore: the state set by hand stays through later evaluations.
    cloudwatch.set_alarm_state(AlarmName=names["ignore"], StateValue="ALARM", StateReason="by hand")
    time.sleep(2.5)  # two evaluations or more
    kept = describe(cloudwatch, names["ignore"])
    assert (kept["StateValue"], kept["StateReason"]) == ("ALARM", "by hand")


def test_set_alarm_state_runs_the_administrators_command(alarm_server: RunningServer, command_dir: Path):
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("command"), unique("Quiet")
    topic = "arn:aws:sns:us-east-1:123456789012:operations"
    cloudwatch.put_metric_alarm(
        **alarm_args(
            name, namespace, TreatMissingData="notBreaching", AlarmActions=["shipyard:command"], OKActions=[topic]
        )
    )
    wait_for_state(cloudwatch, name, "OK")
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="ALARM", StateReason="Testing the pager", StateReasonData='{"by": "test"}'
    )
    written = command_dir / f"{name}-ALARM.json"
    deadline = time.monotonic() + SETTLE_S
    while not (command_dir / f"{name}-ALARM.action").exists():
        assert time.monotonic() < deadline, "the alarm command did not run"
        time.sleep(0.2)
    message = json.loads(written.read_text())
    assert message["NewStateValue"] == "ALARM"
    assert message["NewStateReason"] == "Testing the pager"
    assert (command_dir / f"{name}-ALARM.action").read_text() == "shipyard:command"
    assert (command_dir / f"{name}-OK.action").read_text() == topic  # the first evaluation's OK

    # The next evaluation (no data, notBreaching) brings it back to OK.
    wait_for_state(cloudwatch, name, "OK")
    summaries = [item["HistorySummary"] for item in history(cloudwatch, name, "StateUpdate", ScanBy="TimestampAscending")]
    assert summaries == [
        "Alarm updated from INSUFFICIENT_DATA to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK",
    ]
    set_by_hand = json.loads(history(cloudwatch, name, "StateUpdate", ScanBy="TimestampAscending")[1]["HistoryData"])
    assert set_by_hand["newState"] == {
        "stateValue": "ALARM",
        "stateReason": "Testing the pager",
        "stateReasonData": {"by": "test"},
    }
    actions = wait_for_history(cloudwatch, name, "Action", 3)
    assert {item["HistorySummary"] for item in actions} >= {
        "Successfully executed action shipyard:command",
        f"Successfully executed action {topic}",
    }


def test_disabled_actions_do_not_run_and_failures_are_recorded(alarm_server: RunningServer, webhook: Webhook):
    cloudwatch = alarm_server.client("cloudwatch")
    name, namespace = unique("quiet"), unique("Quiet")
    cloudwatch.put_metric_alarm(**alarm_args(name, namespace, AlarmActions=[webhook.url], TreatMissingData="ignore"))
    cloudwatch.disable_alarm_actions(AlarmNames=[name])
    assert describe(cloudwatch, name)["ActionsEnabled"] is False
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="muted")
    with pytest.raises(queue.Empty):
        webhook.next(timeout=2)

    cloudwatch.enable_alarm_actions(AlarmNames=[name])
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="calm")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="loud")
    assert webhook.next()["NewStateReason"] == "loud"

    # A webhook nobody answers: the action fails after its tries, and the history says so.
    dead = unique("dead")
    closed = Webhook()
    closed.close()
    cloudwatch.put_metric_alarm(**alarm_args(dead, namespace, AlarmActions=[closed.url], TreatMissingData="ignore"))
    cloudwatch.set_alarm_state(AlarmName=dead, StateValue="ALARM", StateReason="nobody listens")
    (failure,) = wait_for_history(cloudwatch, dead, "Action", 1)
    assert failure["HistorySummary"].startswith(f"Failed to execute action {closed.url}. Received error: ")
    assert json.loads(failure["HistoryData"])["actionState"] == "Failed"


def test_state_survives_a_restart(tmp_path: Path, command_dir: Path):
    with start_server(tmp_path / "server", extra_env=alarm_env(command_dir)) as running:
        cloudwatch = running.client("cloudwatch")
        name, namespace = unique("durable"), unique("Shop")
        cloudwatch.put_metric_alarm(**alarm_args(name, namespace))
        put(cloudwatch, namespace, (minutes_ago(2), 9.0))
        before = wait_for_state(cloudwatch, name, "ALARM")

        running.restart(kill=True)
        cloudwatch = running.client("cloudwatch")
        after = describe(cloudwatch, name)
        assert after["StateValue"] == "ALARM"
        assert after["StateReason"] == before["StateReason"]
        assert after["StateTransitionedTimestamp"] == before["StateTransitionedTimestamp"]
        assert len(history(cloudwatch, name, "StateUpdate")) == 1

        put(cloudwatch, namespace, (minutes_ago(1), 1.0))
        wait_for_state(cloudwatch, name, "OK")


# The API itself, on both metadata backends (the session servers evaluate once a minute).


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"Period": 45}, "ValidationError", "Period must be 10, 30 or a multiple of 60"),
        ({"EvaluationPeriods": 1441}, "ValidationError", "more than a day"),
        ({"Period": 3600, "EvaluationPeriods": 169}, "ValidationError", "more than 7 days"),
        ({"EvaluationPeriods": 2, "DatapointsToAlarm": 3}, "ValidationError", "DatapointsToAlarm must be less"),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination", "Statistic and ExtendedStatistic"),
        ({"Statistic": None}, "InvalidParameterCombination", "Statistic and ExtendedStatistic"),
        ({"Statistic": None, "ExtendedStatistic": "tm99x"}, "InvalidParameterValue", "tm99x"),
        ({"Statistic": None, "ExtendedStatistic": "TM(90%:10%)"}, "InvalidParameterValue", "TM(90%:10%)"),
        ({"Statistic": None, "ExtendedStatistic": "Maximum"}, "InvalidParameterValue", "Maximum"),
        ({"Statistic": None, "ExtendedStatistic": "tm90", "EvaluateLowSampleCountPercentile": "ignore"}, "ValidationError", "percentile"),
        ({"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}, "ValidationError", "anomaly detection"),
        ({"ComparisonOperator": "Bigger"}, None, "comparisonOperator"),
        ({"Threshold": None}, "MissingParameter", "Threshold"),
        ({"TreatMissingData": "sometimes"}, "ValidationError", "TreatMissingData"),
        ({"EvaluateLowSampleCountPercentile": "ignore"}, "ValidationError", "percentile"),
        ({"AlarmActions": ["arn:aws:lambda:us-east-1:123456789012:function:page"]}, "ValidationError", "not supported"),
        ({"OKActions": ["ftp://example.com/hook"]}, "ValidationError", "not supported"),
        ({"AlarmActions": ["shipyard:command"]}, "ValidationError", "alarm_command"),
        ({"Metrics": math_queries("m1 + m2")}, "ValidationError", "cannot be specified together with"),
        ({"Metrics": math_queries("m1 +"), **NO_METRIC}, "ValidationError", "Error in expression e1"),
        ({"Metrics": math_queries("m1 + m3"), **NO_METRIC}, "ValidationError", "Unrecognized metric id m3"),
        ({"Metrics": math_queries("m1 + m2", returned="nothing"), **NO_METRIC}, "ValidationError", "ReturnData"),
        ({"ThresholdMetricId": "ad1"}, "ValidationError", "ThresholdMetricId is not supported"),
    ],
)
def test_put_metric_alarm_refuses_what_cloudwatch_refuses(server: RunningServer, changes, code, words):
    cloudwatch = server.client("cloudwatch")
    name = unique("invalid")
    args = {key: value for key, value in {**alarm_args(name, "Shop"), **changes}.items() if value is not None}
    with pytest.raises(ClientError) as caught:
        cloudwatch.put_metric_alarm(**args)
    error = caught.value.response["Error"]
    if code is not None:
        assert error["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert words in error["Message"]
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []


def test_describe_alarms_shape_filters_and_pages(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    prefix = unique("page")
    names = [f"{prefix}-{index}" for index in range(5)]
    for index, name in enumerate(names):
        actions = ["https://hooks.example.com/ops"] if index % 2 else []
        cloudwatch.put_metric_alarm(
            **alarm_args(name, "Shop", Period=300, AlarmActions=actions, Threshold=float(index), DatapointsToAlarm=1)
        )
    account = server.client("sts").get_caller_identity()["Account"]

    alarm = describe(cloudwatch, names[1])
    assert alarm["AlarmArn"] == f"arn:aws:cloudwatch:us-east-1:{account}:alarm:{names[1]}"
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["ActionsEnabled"] is True
    assert alarm["AlarmActions"] == ["https://hooks.example.com/ops"]
    assert alarm["OKActions"] == [] and alarm["InsufficientDataActions"] == []
    assert alarm["Threshold"] == 1.0 and alarm["Period"] == 300 and alarm["DatapointsToAlarm"] == 1
    assert alarm["Dimensions"] == [{"Name": "Service", "Value": "checkout"}]
    assert isinstance(alarm["AlarmConfigurationUpdatedTimestamp"], datetime)
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime)
    assert isinstance(alarm["StateTransitionedTimestamp"], datetime)

    listed = cloudwatch.describe_alarms(AlarmNamePrefix=prefix)["MetricAlarms"]
    assert [item["AlarmName"] for item in listed] == names
    with_hooks = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix="https://hooks.example.com/")
    assert [item["AlarmName"] for item in with_hooks["MetricAlarms"]] == names[1::2]
    assert cloudwatch.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"] == []
    composite_only = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["CompositeAlarm"])
    assert composite_only["MetricAlarms"] == [] and composite_only["CompositeAlarms"] == []

    pages = cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNamePrefix=prefix, PaginationConfig={"PageSize": 2}
    )
    sizes, seen = [], []
    for page in pages:
        sizes.append(len(page["MetricAlarms"]))
        seen += [item["AlarmName"] for item in page["MetricAlarms"]]
    assert sizes == [2, 2, 1] and seen == names
    with pytest.raises(ClientError) as caught:
        cloudwatch.describe_alarms(NextToken="not a token!")
    assert caught.value.response["Error"]["Code"] == "InvalidNextToken"

    for_metric = cloudwatch.describe_alarms_for_metric(
        Namespace="Shop", MetricName="Latency", Dimensions=[{"Name": "Service", "Value": "checkout"}], Period=300
    )["MetricAlarms"]
    assert set(names) <= {item["AlarmName"] for item in for_metric}
    assert all(item["Period"] == 300 for item in for_metric)
    cloudwatch.delete_alarms(AlarmNames=names)


def test_update_keeps_the_state_and_history_tells_what_changed(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    name = unique("update")
    # ignore: no evaluation (the metric has no data) moves the state set by hand.
    cloudwatch.put_metric_alarm(
        **alarm_args(name, "Shop", TreatMissingData="ignore", Tags=[{"Key": "team", "Value": "ml"}])
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="drill")
    cloudwatch.put_metric_alarm(
        **alarm_args(name, "Shop", TreatMissingData="ignore", Threshold=7.5, Tags=[{"Key": "team", "Value": "ops"}])
    )
    alarm = describe(cloudwatch, name)
    assert alarm["Threshold"] == 7.5
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "drill")
    assert alarm["AlarmConfigurationUpdatedTimestamp"] >= alarm["StateUpdatedTimestamp"]
    # Tags apply when an alarm is created; an update leaves them.
    assert cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ml"}]

    configuration = history(cloudwatch, name, "ConfigurationUpdate", ScanBy="TimestampAscending")
    assert [item["HistorySummary"] for item in configuration] == [f'Alarm "{name}" created', f'Alarm "{name}" updated']
    assert all(item["AlarmType"] == "MetricAlarm" and item["AlarmName"] == name for item in configuration)
    update = json.loads(configuration[1]["HistoryData"])
    assert update["originalUpdatedAlarm"]["threshold"] == 3.0
    assert update["updatedAlarm"]["threshold"] == 7.5

    everything = cloudwatch.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [item["HistoryItemType"] for item in everything] == ["ConfigurationUpdate", "StateUpdate", "ConfigurationUpdate"]
    first = cloudwatch.describe_alarm_history(AlarmName=name, MaxRecords=1, ScanBy="TimestampAscending")
    assert first["AlarmHistoryItems"][0]["HistorySummary"] == f'Alarm "{name}" created'
    rest = cloudwatch.describe_alarm_history(
        AlarmName=name, MaxRecords=5, ScanBy="TimestampAscending", NextToken=first["NextToken"]
    )
    assert [item["HistoryItemType"] for item in rest["AlarmHistoryItems"]] == ["StateUpdate", "ConfigurationUpdate"]
    assert "NextToken" not in rest
    future = datetime.now(UTC) + timedelta(hours=1)
    assert cloudwatch.describe_alarm_history(AlarmName=name, StartDate=future)["AlarmHistoryItems"] == []
    cloudwatch.delete_alarms(AlarmNames=[name])


def test_set_alarm_state_errors(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    name = unique("state")
    cloudwatch.put_metric_alarm(**alarm_args(name, "Shop"))
    with pytest.raises(ClientError) as caught:
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="x", StateReasonData="{not json")
    assert caught.value.response["Error"]["Code"] == "InvalidFormat"
    assert describe(cloudwatch, name)["StateValue"] == "INSUFFICIENT_DATA"
    with pytest.raises(cloudwatch.exceptions.ResourceNotFound) as missing:
        cloudwatch.set_alarm_state(AlarmName=unique("nobody"), StateValue="ALARM", StateReason="x")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    cloudwatch.delete_alarms(AlarmNames=[name])


def test_delete_alarms(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    kept, gone = unique("kept"), unique("gone")
    for name in (kept, gone):
        cloudwatch.put_metric_alarm(**alarm_args(name, "Shop"))
    stranger = unique("stranger")
    # A wrong name is reported, and the alarms named right are deleted all the same, as
    # CloudWatch documents.
    with pytest.raises(cloudwatch.exceptions.ResourceNotFound) as caught:
        cloudwatch.delete_alarms(AlarmNames=[gone, stranger])
    assert stranger in caught.value.response["Error"]["Message"]
    assert [item["AlarmName"] for item in cloudwatch.describe_alarms(AlarmNames=[kept, gone])["MetricAlarms"]] == [kept]
    (deleted,) = history(cloudwatch, gone, "ConfigurationUpdate", ScanBy="TimestampDescending", MaxRecords=1)
    assert deleted["HistorySummary"] == f'Alarm "{gone}" deleted'
    cloudwatch.delete_alarms(AlarmNames=[kept])


def test_alarm_tags(server: RunningServer):
    cloudwatch = server.client("cloudwatch")
    name = unique("tagged")
    cloudwatch.put_metric_alarm(**alarm_args(name, "Shop", Tags=[{"Key": "team", "Value": "ml"}]))
    arn = describe(cloudwatch, name)["AlarmArn"]
    cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": "tier", "Value": "gold"}, {"Key": "team", "Value": "ops"}])
    tags = cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert sorted((tag["Key"], tag["Value"]) for tag in tags) == [("team", "ops"), ("tier", "gold")]
    cloudwatch.untag_resource(ResourceARN=arn, TagKeys=["team"])
    assert cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]
    with pytest.raises(cloudwatch.exceptions.ResourceNotFoundException):
        cloudwatch.list_tags_for_resource(ResourceARN=arn + "-nope")
    cloudwatch.delete_alarms(AlarmNames=[name])


def test_iam_policies_scope_alarms_by_name(server: RunningServer):
    team = unique("team")
    user = create_user(
        server,
        policy=allow(
            ["cloudwatch:PutMetricAlarm", "cloudwatch:SetAlarmState", "cloudwatch:DeleteAlarms"],
            f"arn:aws:cloudwatch:*:*:alarm:{team}-*",
        ),
    )
    cloudwatch = server.client("cloudwatch", credentials=user.credentials)
    mine, theirs = f"{team}-latency", unique("other")
    cloudwatch.put_metric_alarm(**alarm_args(mine, "Shop", TreatMissingData="ignore"))
    cloudwatch.set_alarm_state(AlarmName=mine, StateValue="ALARM", StateReason="drill")
    for call in (
        lambda: cloudwatch.put_metric_alarm(**alarm_args(theirs, "Shop")),
        lambda: cloudwatch.describe_alarms(AlarmNames=[mine]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400  # json protocol denial
    root = server.client("cloudwatch")
    assert describe(root, mine)["StateValue"] == "ALARM"
    assert root.describe_alarms(AlarmNames=[theirs])["MetricAlarms"] == []
    cloudwatch.delete_alarms(AlarmNames=[mine])


def test_actions_owed_when_the_server_dies_run_after_its_restart(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    held = shlex.quote(str(out / "released"))
    # The command hangs until the test releases it, so the server dies with the action unrun.
    command = f"if [ -e {held} ]; then cat > {shlex.quote(str(out))}/\"$SHIPYARD_ALARM_STATE.json\"; else sleep 30; fi"
    env = {"SHIPYARD_ALARM_EVALUATION_SECONDS": "1", "SHIPYARD_ALARM_COMMAND": command}
    with start_server(tmp_path / "server", extra_env=env) as running:
        cloudwatch = running.client("cloudwatch")
        name, namespace = unique("owed"), unique("Quiet")
        cloudwatch.put_metric_alarm(**alarm_args(name, namespace, AlarmActions=["shipyard:command"], TreatMissingData="ignore"))
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="paging during a crash")
        time.sleep(0.5)  # the command has started and hangs
        running.restart(kill=True)

        (out / "released").touch()
        deadline = time.monotonic() + SETTLE_S
        while not (out / "ALARM.json").exists():
            assert time.monotonic() < deadline, "the owed action did not run after the restart"
            time.sleep(0.2)
        assert json.loads((out / "ALARM.json").read_text())["NewStateReason"] == "paging during a crash"
        (done,) = wait_for_history(running.client("cloudwatch"), name, "Action", 1)
        assert done["HistorySummary"] == "Successfully executed action shipyard:command"


@pytest.mark.parametrize("protocol", ["query", "smithy-rpc-v2-cbor"])
def test_alarms_in_the_other_protocols(sqlite_server: RunningServer, protocol: str):
    cloudwatch = client_speaking(sqlite_server, "cloudwatch", protocol)
    name, namespace = unique("wire"), unique("Wire")
    cloudwatch.put_metric_alarm(**alarm_args(name, namespace, AlarmActions=["https://hooks.example.com/x"], Tags=[{"Key": "team", "Value": "ml"}]))
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand", StateReasonData='{"n": 1}')
    alarm = describe(cloudwatch, name)
    assert (alarm["StateValue"], alarm["StateReason"], alarm["Threshold"]) == ("ALARM", "by hand", 3.0)
    assert alarm["AlarmActions"] == ["https://hooks.example.com/x"]
    assert isinstance(alarm["StateUpdatedTimestamp"], datetime)
    (update,) = history(cloudwatch, name, "StateUpdate")
    assert update["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError) as missing:
        cloudwatch.delete_alarms(AlarmNames=[name, unique("absent")])
    assert error_of(missing)[0] == "ResourceNotFound"
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
