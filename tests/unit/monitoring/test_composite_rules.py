"""Composite alarms' rules: the AlarmRule language, and the family of alarms a region's
composites link (children, parents, cycles, evaluation order, the state a rule calls for)."""

from __future__ import annotations

import json

import pytest

from shipyard.monitoring.alarms.alarm_rule import (
    MAX_CHILDREN,
    MAX_ELEMENTS,
    AllOf,
    AnyOf,
    Constant,
    Not,
    RuleError,
    StateIs,
    holds,
    parse,
    references,
)
from shipyard.monitoring.alarms.composite import Family
from shipyard.monitoring.alarms.records import KIND, Alarm

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def test_precedence_quotes_and_arns():
    rule = parse(f'ALARM(cpu) OR ALARM("disk ops") AND NOT OK({ARN}net)')
    assert rule == AnyOf(
        (
            StateIs("ALARM", "cpu"),
            AllOf((StateIs("ALARM", "disk ops"), Not(StateIs("OK", f"{ARN}net")))),
        )
    )
    assert references(rule) == ["cpu", "disk ops", f"{ARN}net"]
    assert parse("(TRUE)") == Constant(True)
    assert references(parse("INSUFFICIENT_DATA(a) AND (OK(a) OR FALSE)")) == ["a"]


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({"a": "ALARM", "b": "OK"}, True),
        ({"a": "ALARM", "b": "ALARM"}, False),
        ({"a": "OK", "b": "INSUFFICIENT_DATA"}, True),
        ({"a": "OK", "b": "OK"}, False),
    ],
)
def test_holds(states: dict[str, str], expected: bool):
    rule = parse("(ALARM(a) AND NOT ALARM(b)) OR INSUFFICIENT_DATA(b)")
    assert holds(rule, states.get) is expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ALARM(a) AND", "Unexpected end of rule at char 12"),
        ("()", "Unsupported token ')' at char 1"),
        ("ALARM(a b)", "Unsupported token 'b' at char 8, must be: ')'"),
        ("alarm(a)", "Unsupported token 'alarm' at char 0"),
        ("ALARM(a) XOR ALARM(b)", "Unsupported token 'XOR' at char 9]"),
        ('ALARM("a)', "Unterminated quoted alarm name at char 6"),
        ("ALARM()", "Unsupported token ')' at char 6, must be: an alarm name or ARN"),
        ("x" * 10_241, "at most 10240 characters"),
        (" OR ".join(f"ALARM(a{index})" for index in range(MAX_CHILDREN + 1)), "100 children alarms"),
        (" OR ".join(["TRUE"] * (MAX_ELEMENTS + 1)), "500 elements"),
    ],
)
def test_invalid_rules(text: str, words: str):
    with pytest.raises(RuleError) as caught:
        parse(text)
    assert words in str(caught.value)
    if " at char " in words:
        assert str(caught.value).startswith("Error in AlarmRule [")


def alarm(name: str, status: str = "OK", *, rule: str | None = None, transitioned_ms: int = 1_000) -> Alarm:
    request = {"AlarmName": name, "AlarmRule": rule} if rule else {"AlarmName": name, "MetricName": "Latency"}
    details = {"configured_ms": 1, "transitioned_ms": transitioned_ms, "updated_ms": transitioned_ms}
    return Alarm(0, KIND, "us-east-1", name, ARN + name, status, request, details)


def test_children_parents_and_the_order_of_evaluation():
    family = Family(
        [
            alarm("outer", rule=f"ALARM(inner) OR OK({ARN}cpu)"),
            alarm("inner", rule='ALARM("cpu") AND NOT ALARM(disk)'),
            alarm("cpu"),
            alarm("disk"),
        ]
    )
    assert family.children("outer") == ["inner", "cpu"]
    assert family.parents("cpu") == ["inner", "outer"]
    assert family.parents("disk") == ["inner"]
    assert family.evaluation_order() == (["inner", "outer"], [])
    assert family.cycle_through("outer") is None
    looped = family.with_rule("inner", parse("ALARM(outer)"))
    assert looped.cycle_through("inner") == ["inner", "outer", "inner"]
    assert looped.evaluation_order() == ([], ["inner", "outer"])
    assert family.children("inner") == ["cpu", "disk"]  # with_rule left the family as it was


def test_outcome_names_the_child_that_changed_last():
    family = Family(
        [
            alarm("any", rule="ALARM(cpu) OR ALARM(disk)"),
            alarm("cpu", "ALARM", transitioned_ms=1_700_000_000_000),
            alarm("disk", "ALARM", transitioned_ms=1_700_000_060_000),
        ]
    )
    outcome = family.outcome("any")
    assert outcome.state == "ALARM"
    assert outcome.reason == f"{ARN}disk transitioned to ALARM at Tuesday 14 November, 2023 22:14:20 UTC"
    assert [child["arn"] for child in outcome.reason_data["triggeringAlarms"]] == [ARN + "disk", ARN + "cpu"]
    assert outcome.reason_data["triggeringAlarms"][0]["state"] == {
        "value": "ALARM",
        "timestamp": "2023-11-14T22:14:20.000+0000",
    }
    json.dumps(outcome.reason_data)  # StateReasonData is JSON

    calm = Family([alarm("any", rule="ALARM(cpu) OR ALARM(disk)"), alarm("cpu"), alarm("disk", "INSUFFICIENT_DATA")])
    outcome = calm.outcome("any")
    assert outcome.state == "OK"
    assert {child["arn"] for child in outcome.reason_data["triggeringAlarms"]} == {ARN + "cpu", ARN + "disk"}

    constant = Family([alarm("always", rule="TRUE")]).outcome("always")
    assert (constant.state, constant.reason, constant.reason_data) == (
        "ALARM",
        "The alarm rule evaluated to TRUE",
        {"triggeringAlarms": []},
    )


def test_inputs_change_with_a_child_state_or_the_configuration():
    before = Family([alarm("any", rule="ALARM(cpu)"), alarm("cpu")])
    same = Family([alarm("any", rule="ALARM(cpu)"), alarm("cpu")])
    assert before.inputs("any") == same.inputs("any")
    changed = Family([alarm("any", rule="ALARM(cpu)"), alarm("cpu", "ALARM", transitioned_ms=2_000)])
    assert changed.inputs("any") != before.inputs("any")
    reconfigured = alarm("any", rule="ALARM(cpu)")
    reconfigured.details["configured_ms"] = 2
    assert Family([reconfigured, alarm("cpu")]).inputs("any") != before.inputs("any")
