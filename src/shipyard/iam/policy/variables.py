"""Policy variables in Resource entries and condition values (policy version 2012-10-17).

``${aws:username}`` is replaced by the request's value of that context key,
``${key, 'default'}`` falls back to the default, and ``${*}``, ``${?}``, ``${$}`` stand
for the literal characters. A variable without a value (and no default) leaves the entry
unresolved: it then matches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.iam.policy.patterns import glob_fragment

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_WITH_DEFAULT = re.compile(r"\s*([^,]*?)\s*,\s*'([^']*)'\s*\Z")
_ESCAPES = frozenset("*?$")

Context = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Variable:
    """One ``${...}`` reference: the context key (lower-cased) and its default."""

    key: str
    default: str | None

    def value(self, context: Context) -> str | None:
        """The single value of the key in ``context``, else the default."""
        values = context.get(self.key)
        if values is not None and len(values) == 1:
            return values[0]
        return self.default


@dataclass(frozen=True, slots=True)
class Escaped:
    """A character written as ``${*}``, ``${?}`` or ``${$}``: always literal."""

    char: str


@dataclass(frozen=True, slots=True)
class Template:
    """A value with variables; plain text parts keep their wildcard meaning."""

    parts: tuple[str | Variable | Escaped, ...]

    def resolve(self, context: Context) -> tuple[str, str] | None:
        """The resolved text and its wildcard-pattern regex source, or None if unresolved."""
        text: list[str] = []
        regex: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                text.append(part)
                regex.append(glob_fragment(part))
                continue
            value = part.char if isinstance(part, Escaped) else part.value(context)
            if value is None:
                return None
            text.append(value)
            regex.append(re.escape(value))
        return "".join(text), "".join(regex)


def parse_template(text: str) -> Template | None:
    """The template for ``text``, or None when it holds no variable or escape."""
    parts: list[str | Variable | Escaped] = []
    last = 0
    for found in _VARIABLE.finditer(text):
        inner = found.group(1)
        if inner in _ESCAPES:
            part: Variable | Escaped = Escaped(inner)
        elif with_default := _WITH_DEFAULT.match(inner):
            part = Variable(with_default.group(1).lower(), with_default.group(2))
        else:
            part = Variable(inner.strip().lower(), None)
        if found.start() > last:
            parts.append(text[last : found.start()])
        parts.append(part)
        last = found.end()
    if not parts:
        return None
    if last < len(text):
        parts.append(text[last:])
    return Template(tuple(parts))
