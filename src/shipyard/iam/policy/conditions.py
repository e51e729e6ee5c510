"""The Condition element: clauses, set operators, ``...IfExists`` and missing keys.

Every clause of a statement must hold (several operators, several keys: AND); a clause
holds when a request value matches one of its values (several values: OR). A key the
request lacks makes a clause false, except for negated operators, ``...IfExists``,
``Null`` and ``ForAllValues:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shipyard.iam.policy.operators import OPERATORS, Operator
from shipyard.iam.policy.patterns import compile_fragments
from shipyard.iam.policy.variables import Context, Template, parse_template

Qualifier = Literal["any", "all"] | None

_QUALIFIERS: dict[str, Qualifier] = {"ForAnyValue:": "any", "ForAllValues:": "all"}


@dataclass(frozen=True, slots=True)
class OperatorName:
    """A condition operator name split into set qualifier, base operator and IfExists."""

    qualifier: Qualifier
    operator: Operator | None
    if_exists: bool


def split_operator(name: str) -> OperatorName:
    """Parse ``ForAnyValue:StringLikeIfExists`` and the like; unknown bases give None."""
    qualifier: Qualifier = None
    for prefix, kind in _QUALIFIERS.items():
        if name.startswith(prefix):
            qualifier, name = kind, name[len(prefix) :]
            break
    if_exists = name.endswith("IfExists")
    if if_exists:
        name = name[: -len("IfExists")]
    return OperatorName(qualifier, OPERATORS.get(name), if_exists)


def condition_text(value: Any) -> str:
    """A JSON condition value as the string IAM compares (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class Clause:
    """One operator applied to one context key with its policy values."""

    operator: Operator
    key: str
    lookup: str
    values: tuple[Any, ...]
    templates: tuple[Template, ...]
    qualifier: Qualifier
    if_exists: bool

    def holds(self, context: Context, missing: list[str]) -> bool:
        """Whether the clause holds for ``context``; absent keys are added to ``missing``."""
        found = context.get(self.lookup)
        values = self._values(context) if self.templates else self.values
        if self.operator.name == "Null":
            present = bool(found)
            return any((value == "true") != present for value in values)
        if found is None:
            missing.append(self.key)
        if not found:
            if self.if_exists or self.qualifier == "all":
                return True
            return self.qualifier is None and self.operator.negated
        test = self.operator.test
        negated = self.operator.negated
        if self.qualifier is None:
            hit = any(test(value, actual) for actual in found for value in values)
            return hit != negated
        outcomes = (
            any(test(value, actual) for value in values) != negated for actual in found
        )
        return all(outcomes) if self.qualifier == "all" else any(outcomes)

    def _values(self, context: Context) -> tuple[Any, ...]:
        resolved: list[Any] = list(self.values)
        for template in self.templates:
            text_and_regex = template.resolve(context)
            if text_and_regex is None:
                continue
            text, regex = text_and_regex
            wildcards = self.operator.wildcards
            resolved.append(
                compile_fragments((regex,))
                if wildcards
                else self.operator.prepare(text)
            )
        return tuple(resolved)


def compile_conditions(
    block: Mapping[str, Mapping[str, Any]], variables: bool
) -> tuple[Clause, ...]:
    """The clauses of a validated Condition block; ``variables`` enables ``${...}``."""
    clauses: list[Clause] = []
    for name, keys in block.items():
        parsed = split_operator(name)
        if parsed.operator is None:
            continue
        op = parsed.operator
        for key, raw in keys.items():
            texts = [
                condition_text(v) for v in (raw if isinstance(raw, list) else [raw])
            ]
            values: list[Any] = []
            templates: list[Template] = []
            for text in texts:
                template = parse_template(text) if variables else None
                if template is None:
                    values.append(op.prepare(text))
                else:
                    templates.append(template)
            clauses.append(
                Clause(
                    op,
                    key,
                    key.lower(),
                    tuple(values),
                    tuple(templates),
                    parsed.qualifier,
                    parsed.if_exists,
                )
            )
    return tuple(clauses)
