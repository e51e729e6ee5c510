"""Composite alarms over the other alarms of their region: whom a rule names, who depends on
whom, in which order composites are evaluated, and the state a rule calls for, worded as
CloudWatch words it (pure, no I/O).

A composite's state follows its rule over its children's current states: TRUE → ALARM,
FALSE → OK. A composite is evaluated again only when its inputs changed (a child's state, or
its own configuration), so a state set by hand (SetAlarmState) stays until then, as in
CloudWatch. Composites that depend on themselves through others are not evaluated.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from shipyard.monitoring.alarms.alarm_rule import Expression, functions, holds, parse
from shipyard.monitoring.alarms.evaluation import ALARM, OK, Outcome, iso_time
from shipyard.monitoring.alarms.records import Alarm


class Family:
    """The alarms of one region, with the links their composites' rules make."""

    def __init__(self, alarms: Iterable[Alarm]) -> None:
        self._by_name = {alarm.name: alarm for alarm in alarms}
        self._by_arn = {alarm.arn: alarm.name for alarm in self._by_name.values()}
        self._rules: dict[str, Expression] = {
            alarm.name: parse(alarm.request["AlarmRule"]) for alarm in self._by_name.values() if alarm.is_composite
        }

    def __getitem__(self, name: str) -> Alarm:
        return self._by_name[name]

    def replace(self, alarm: Alarm) -> None:
        """Take ``alarm`` (changed) in place of the one of that name."""
        self._by_name[alarm.name] = alarm

    def resolve(self, reference: str) -> str | None:
        """The name of the alarm a rule's ``reference`` (a name or an ARN) denotes, if it exists."""
        if reference in self._by_name:
            return reference
        return self._by_arn.get(reference)

    def is_composite(self, name: str) -> bool:
        return name in self._rules

    def rule(self, name: str) -> Expression:
        return self._rules[name]

    def children(self, name: str) -> list[str]:
        """The names of the existing alarms composite ``name``'s rule names, in order."""
        found = (self.resolve(function.alarm) for function in functions(self._rules[name]))
        return list(dict.fromkeys(child for child in found if child is not None))

    def parents(self, name: str) -> list[str]:
        """The composites whose rules name alarm ``name``, by name."""
        return sorted(parent for parent in self._rules if name in self.children(parent))

    def with_rule(self, name: str, rule: Expression) -> Family:
        """This family as it would be if composite ``name`` had ``rule``."""
        changed = copy.copy(self)
        changed._rules = {**self._rules, name: rule}
        return changed

    def cycle_through(self, name: str) -> list[str] | None:
        """A path of composites from ``name`` back to itself, if its rule depends on it."""

        def search(current: str, path: list[str], seen: set[str]) -> list[str] | None:
            for child in self.children(current) if current in self._rules else ():
                if child == name:
                    return [*path, child]
                if child not in seen:
                    seen.add(child)
                    if (found := search(child, [*path, child], seen)) is not None:
                        return found
            return None

        return search(name, [name], set())

    def evaluation_order(self) -> tuple[list[str], list[str]]:
        """The composites children first (so a composite of composites sees their new
        states), and apart those caught in a cycle, which are not evaluated."""
        order: list[str] = []
        done: set[str] = set()
        cyclic: set[str] = set()

        def visit(name: str, path: list[str]) -> None:
            if name in done or name in cyclic:
                return
            if name in path:
                cyclic.update(path[path.index(name) :])
                return
            for child in self.children(name):
                if child in self._rules:
                    visit(child, [*path, name])
            if name not in cyclic:
                done.add(name)
                order.append(name)

        for name in sorted(self._rules):
            visit(name, [])
        return order, sorted(cyclic)

    def inputs(self, name: str) -> list[Any]:
        """What composite ``name``'s evaluation depends on: its configuration time and its
        children's states (JSON-safe, kept in the alarm to tell whether anything changed)."""
        composite = self._by_name[name]
        states = [[child, self[child].status, self[child].details.get("transitioned_ms")] for child in self.children(name)]
        return [composite.details.get("configured_ms"), states]

    def outcome(self, name: str) -> Outcome:
        """The state composite ``name``'s rule calls for, with CloudWatch's StateReason
        (the child that changed last among those that decided it) and StateReasonData
        (``triggeringAlarms``)."""
        rule = self._rules[name]

        def state_of(reference: str) -> str | None:
            child = self.resolve(reference)
            return None if child is None else self[child].status

        alarming = holds(rule, state_of)
        deciding: dict[str, None] = {}
        for function in functions(rule):
            child = self.resolve(function.alarm)
            if child is not None and (state_of(function.alarm) == function.state) == alarming:
                deciding[child] = None
        triggering = sorted((self[child] for child in deciding), key=_transitioned, reverse=True)
        state = ALARM if alarming else OK
        if triggering:
            last = triggering[0]
            reason = f"{last.arn} transitioned to {last.status} at {_long_time(_transitioned(last))}"
        else:
            reason = f"The alarm rule evaluated to {'TRUE' if alarming else 'FALSE'}"
        data = {
            "triggeringAlarms": [
                {"arn": child.arn, "state": {"value": child.status, "timestamp": iso_time(_transitioned(child))}}
                for child in triggering
            ]
        }
        return Outcome(state, reason, data)


def _transitioned(alarm: Alarm) -> int:
    return int(alarm.details.get("transitioned_ms") or alarm.created_ms)


def _long_time(epoch_ms: int) -> str:
    """``Sunday 30 October, 2022 20:47:35 UTC``, as composite StateReasons write times."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%A %d %B, %Y %H:%M:%S UTC")
