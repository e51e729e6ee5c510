"""The generic rule: action ``<prefix>:<Operation>``, resource from the member that names it.

A service declares a :class:`ServiceTable`: which request members name which resource
type, which condition keys come from where in the request, and explicit rules for the
operations the generic one would get wrong. :func:`compile_operation` turns one operation
model into a rule once; evaluating a rule per request is a few dictionary lookups.

The resource member of an operation is, in order: the operation's own noun
(``CreateTrainingJob`` -> ``TrainingJobName``), the first required member the table knows
(in the table's order; optional members are mostly filters of a listing), or none at all
(the action is checked on ``"*"``). An operation with a
required ``...Name``/``...Arn`` member that the table does not know gets no rule, so an
unknown resource is never silently checked on ``"*"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, StructureShape

from shipyard.iam.actions.base import ArnBuilder, Request, RequiredAction, Rule
from shipyard.iam.actions.tags import TagReader

#: Required members that look like they name a resource.
_RESOURCE_LIKE = re.compile(r"(Name|Arn|ARN|Identifier)$")
_VERB = re.compile(r"^[A-Z][a-z]+")
_REMOVING = re.compile(r"^(Untag|Remove|Delete)")


@dataclass(frozen=True)
class ConditionKey:
    """A request condition key and where its values are in the request parameters.

    A path is dotted; ``[]`` steps into every item of a list
    (``ProductionVariants[].InstanceType``).
    """

    key: str
    paths: tuple[str, ...]
    operations: str = (
        ""  # a regular expression the operation name must match ("" for all)
    )


@dataclass(frozen=True)
class ServiceTable:
    """How one service's operations map to IAM actions, resources and condition keys."""

    prefix: str
    resources: Mapping[str, ArnBuilder] = field(default_factory=dict)
    conditions: tuple[ConditionKey, ...] = ()
    overrides: Mapping[str, Rule] = field(default_factory=dict)
    #: Operation -> its action, where the action is not named after the operation.
    actions: Mapping[str, str] = field(default_factory=dict)
    #: Operation noun -> builder for a generic member (``Name``...) of that noun's operations.
    nouns: Mapping[str, ArnBuilder] = field(default_factory=dict)
    noun_members: tuple[str, ...] = ()
    #: Operation -> further members whose resources the action is also checked on.
    also: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Required ``...Name``/``...Arn`` members that name no resource of the action.
    not_resources: frozenset[str] = frozenset()
    #: Members that name the resource even where optional (elsewhere an optional member is a filter).
    optional_resources: frozenset[str] = frozenset()
    #: Members holding a role the caller hands to the service (which then acts as it): the
    #: caller also needs ``iam:PassRole`` on that role, as AWS requires.
    passed_roles: frozenset[str] = frozenset()
    #: The service principal a passed role is handed to (``iam:PassedToService``).
    service_principal: str = ""


@dataclass(frozen=True)
class _Path:
    key: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class GenericRule:
    """One action on the resources named by some members, with condition keys read off."""

    action: str
    resources: tuple[tuple[str, ArnBuilder], ...] = ()
    paths: tuple[_Path, ...] = ()
    tags: tuple[TagReader, ...] = ()
    #: Members that pass a role, and the service it is passed to (see ``ServiceTable``).
    passed_roles: tuple[str, ...] = ()
    service_principal: str = ""

    def __call__(self, request: Request) -> list[RequiredAction]:
        arns: list[str] = []
        for member, build in self.resources:
            value = request.params.get(member)
            for item in value if isinstance(value, list) else (value,):
                if (arn := build(item, request)) is not None:
                    arns.append(arn)
        needed = [
            RequiredAction(
                self.action,
                tuple(arns) or ("*",),
                _read_context(self.paths, self.tags, request),
            )
        ]
        passed = {"iam:PassedToService": (self.service_principal,)}
        for member in self.passed_roles:
            role = request.params.get(member)
            if isinstance(role, str) and role:
                needed.append(RequiredAction("iam:PassRole", (role,), passed))
        return needed


def _read_context(
    paths: tuple[_Path, ...], tags: tuple[TagReader, ...], request: Request
) -> dict[str, tuple[str, ...]]:
    """The condition keys found in ``request`` along ``paths`` and in its tag members."""
    context: dict[str, tuple[str, ...]] = {}
    for path in paths:
        found = tuple(_values(request.params, path.steps))
        if found:
            context[path.key] = tuple(dict.fromkeys(context.get(path.key, ()) + found))
    for reader in tags:
        context.update(reader.read(request.params))
    return context


def compile_operation(table: ServiceTable, operation: OperationModel) -> Rule | None:
    """The rule for ``operation``, or None where the table cannot say which resource it acts on."""
    name = operation.name
    if name in table.overrides:
        return table.overrides[name]
    shape = operation.input_shape
    members: Mapping[str, Any] = (
        shape.members if isinstance(shape, StructureShape) else {}
    )
    required = (
        set(shape.required_members) if isinstance(shape, StructureShape) else set()
    )
    resources = _resource_members(table, name, members, required)
    if resources is None:
        return None
    resources += tuple(
        (member, table.resources[member]) for member in table.also.get(name, ())
    )
    action = table.actions.get(name, f"{table.prefix}:{name}")
    return GenericRule(
        action,
        resources,
        _compile_paths(table.conditions, name, members),
        _tag_readers(name, members),
        tuple(member for member in members if member in table.passed_roles),
        table.service_principal,
    )


def _compile_paths(
    conditions: tuple[ConditionKey, ...], operation: str, members: Mapping[str, Any]
) -> tuple[_Path, ...]:
    """The condition-key paths that apply to ``operation`` and whose first member it has."""
    paths = []
    for condition in conditions:
        if condition.operations and not re.fullmatch(condition.operations, operation):
            continue
        for path in condition.paths:
            steps = tuple(path.replace("[]", ".[]").split("."))
            if steps[0] in members:
                paths.append(_Path(condition.key, steps))
    return tuple(paths)


def _resource_members(
    table: ServiceTable, operation: str, members: Mapping[str, Any], required: set[str]
) -> tuple[tuple[str, ArnBuilder], ...] | None:
    noun = _VERB.sub("", operation, count=1)
    if noun in table.nouns:
        generic = next(
            (member for member in table.noun_members if member in required), None
        )
        if generic is not None:
            return ((generic, table.nouns[noun]),)
    own = [
        member
        for member in (f"{noun}Name", f"{noun}Arn")
        if member in members and member in table.resources
    ]
    known = [
        member
        for member in table.resources
        if member in required
        or (member in members and member in table.optional_resources)
    ]
    if own or known:
        member = (own or known)[0]
        return ((member, table.resources[member]),)
    if any(
        _RESOURCE_LIKE.search(member) and member not in table.not_resources
        for member in required
    ):
        return None
    return ()


def _tag_readers(operation: str, members: Mapping[str, Any]) -> tuple[TagReader, ...]:
    removing = bool(_REMOVING.match(operation))
    readers = (
        TagReader.for_member(member, shape, removing=removing)
        for member, shape in members.items()
    )
    return tuple(reader for reader in readers if reader is not None)


def _values(value: Any, steps: tuple[str, ...]) -> Iterator[str]:
    if not steps:
        if isinstance(value, list):
            for item in value:
                yield from _values(item, ())
        elif isinstance(value, bool):
            yield "true" if value else "false"
        elif value is not None:
            yield str(value)
        return
    head, rest = steps[0], steps[1:]
    if head == "[]":
        for item in value if isinstance(value, list) else ():
            yield from _values(item, rest)
    elif isinstance(value, Mapping) and head in value:
        yield from _values(value[head], rest)
