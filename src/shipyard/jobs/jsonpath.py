"""The JSONPath of batch transform's ``DataProcessing`` filters, as SageMaker defines it.

SageMaker supports a subset: ``$`` (the record), ``.name`` and ``['name'(,'name')]``
(children), ``[n(,n)]`` (indexes, negative ones from the end), ``[start:end]`` (slices,
either end optional; they mix with indexes: ``$[0,5:]``) and ``*`` (every child).
Selecting one child gives its value; selecting several gives a list (indexes, slices,
``*``) or an object (names), so ``$['id','SageMakerOutput']`` keeps just those two keys.

General-purpose JSONPath libraries return flat match lists (losing that shape) and do not
all parse SageMaker's own examples, hence this small evaluator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[^.\[\]'\"\s]+")
_QUOTED = re.compile(r"\s*'((?:[^'\\]|\\.)*)'\s*|\s*\"((?:[^\"\\]|\\.)*)\"\s*")
_INDEX = re.compile(r"\s*(-?\d+)?\s*(:)?\s*(-?\d+)?\s*")


class JsonPathError(ValueError):
    """An expression outside SageMaker's JSONPath, or one that does not fit the record."""


@dataclass(frozen=True)
class _Names:
    names: tuple[str, ...]
    #: Several names select an object of them; one (``.a``, ``['a']``) selects its value.
    many: bool


@dataclass(frozen=True)
class _Indexes:
    #: ints and slices, in the order written.
    items: tuple[int | slice, ...]

    @property
    def many(self) -> bool:
        return len(self.items) > 1 or isinstance(self.items[0], slice)


@dataclass(frozen=True)
class _Wildcard:
    pass


_Step = _Names | _Indexes | _Wildcard


@dataclass(frozen=True)
class JsonPath:
    """A parsed expression; :meth:`apply` evaluates it on one record."""

    text: str
    steps: tuple[_Step, ...]

    @classmethod
    def parse(cls, text: str) -> JsonPath:
        """Parse ``text`` (``JsonPathError`` if it is not SageMaker's JSONPath)."""
        expression = text.strip()
        if not expression.startswith("$"):
            raise JsonPathError(f"the JSONPath expression {text!r} must start with $")
        steps: list[_Step] = []
        position = 1
        while position < len(expression):
            step, position = _parse_step(expression, position, text)
            steps.append(step)
        return cls(text, tuple(steps))

    @property
    def is_root(self) -> bool:
        """Whether the expression is ``$`` (the record as it is)."""
        return not self.steps

    def apply(self, document: Any) -> Any:
        """The part of ``document`` the expression selects (``JsonPathError`` when it names
        a key or an index the document lacks)."""
        return _apply(self.steps, document, self.text)


def _parse_step(expression: str, position: int, text: str) -> tuple[_Step, int]:
    char = expression[position]
    if char == ".":
        position += 1
        if expression.startswith("[", position):  # $.field.['a','b'] is accepted too
            return _parse_brackets(expression, position, text)
        if expression.startswith("*", position):
            return _Wildcard(), position + 1
        match = _NAME.match(expression, position)
        if match is None:
            raise JsonPathError(f"the JSONPath expression {text!r} has no name after '.' at position {position}")
        return _Names((match.group(),), many=False), match.end()
    if char == "[":
        return _parse_brackets(expression, position, text)
    raise JsonPathError(f"the JSONPath expression {text!r} has an unexpected {char!r} at position {position}")


def _parse_brackets(expression: str, position: int, text: str) -> tuple[_Step, int]:
    end = expression.find("]", position)
    if end < 0:
        raise JsonPathError(f"the JSONPath expression {text!r} has an unclosed '['")
    inside = expression[position + 1 : end]
    if inside.strip() == "*":
        return _Wildcard(), end + 1
    parts = _split_commas(inside)
    if all(_QUOTED.fullmatch(part) for part in parts):
        names = tuple(_unquote(_QUOTED.fullmatch(part)) for part in parts)  # type: ignore[arg-type]
        return _Names(names, many=len(names) > 1), end + 1
    items: list[int | slice] = []
    for part in parts:
        match = _INDEX.fullmatch(part)
        if match is None or not (match.group(1) or match.group(2)):
            raise JsonPathError(f"the JSONPath expression {text!r} has an invalid selector [{inside}]")
        start, colon, stop = match.groups()
        if colon:
            items.append(slice(None if start is None else int(start), None if stop is None else int(stop)))
        elif stop is None:
            items.append(int(start))
        else:
            raise JsonPathError(f"the JSONPath expression {text!r} has an invalid selector [{inside}]")
    return _Indexes(tuple(items)), end + 1


def _split_commas(inside: str) -> list[str]:
    """``inside`` split on the commas that are not within quotes."""
    parts, current, quote, escaped = [], [], "", False
    for char in inside:
        if escaped:
            escaped = False
        elif char == "\\" and quote:
            escaped = True
        elif char in "'\"" and (not quote or quote == char):
            quote = "" if quote else char
        if char == "," and not quote:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(match: re.Match[str]) -> str:
    raw = match.group(1) if match.group(1) is not None else match.group(2)
    return re.sub(r"\\(.)", r"\1", raw)


def _apply(steps: tuple[_Step, ...], document: Any, text: str) -> Any:
    if not steps:
        return document
    step, rest = steps[0], steps[1:]
    if isinstance(step, _Wildcard):
        if isinstance(document, dict):
            return [_apply(rest, value, text) for value in document.values()]
        if isinstance(document, list):
            return [_apply(rest, value, text) for value in document]
        raise JsonPathError(f"{text}: '*' needs an object or an array, not {_kind(document)}")
    if isinstance(step, _Names):
        if not isinstance(document, dict):
            raise JsonPathError(f"{text}: cannot select {', '.join(map(repr, step.names))} of {_kind(document)}")
        missing = [name for name in step.names if name not in document]
        if missing:
            raise JsonPathError(f"{text}: the record has no key {', '.join(map(repr, missing))}")
        if not step.many:
            return _apply(rest, document[step.names[0]], text)
        return {name: _apply(rest, document[name], text) for name in step.names}
    if not isinstance(document, list):
        raise JsonPathError(f"{text}: cannot index {_kind(document)}")
    selected: list[Any] = []
    for item in step.items:
        if isinstance(item, slice):
            selected += document[item]
            continue
        if not -len(document) <= item < len(document):
            raise JsonPathError(f"{text}: index {item} is outside the record's {len(document)} elements")
        selected.append(document[item])
    if not step.many:
        return _apply(rest, selected[0], text)
    return [_apply(rest, value, text) for value in selected]


def _kind(document: Any) -> str:
    if isinstance(document, dict):
        return "an object"
    if isinstance(document, list):
        return "an array"
    return f"the value {document!r}"[:80]
