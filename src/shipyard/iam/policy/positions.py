"""Where each statement of a policy text starts and ends, for Simulate's MatchedStatements.

A small scanner over already-valid JSON: it skips values without building them and
records the spans of the Statement element's entries.
"""

from __future__ import annotations

import re

from shipyard.iam.policy.document import Position

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^\s,\]}]+")
_SPACE = re.compile(r"\s*")


def statement_spans(text: str) -> list[tuple[Position, Position]]:
    """(start, end) of each statement object; end is the column just past its ``}``."""
    scanner = _Scanner(text)
    spans = scanner.top_level_statement()
    return [(scanner.position(start), scanner.position(end)) for start, end in spans]


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text

    def top_level_statement(self) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        i = self._space(0)
        if self.text[i : i + 1] != "{":
            return spans
        i = self._space(i + 1)
        while i < len(self.text) and self.text[i] == '"':
            key_end = _STRING.match(self.text, i).end()
            key = self.text[i + 1 : key_end - 1]
            i = self._space(self._space(key_end) + 1)
            end = self._skip(i)
            if key == "Statement":
                spans = self._entries(i, end)
            i = self._space(end)
            if self.text[i : i + 1] == ",":
                i = self._space(i + 1)
        return spans

    def _entries(self, start: int, end: int) -> list[tuple[int, int]]:
        if self.text[start] == "{":
            return [(start, end)]
        spans: list[tuple[int, int]] = []
        i = self._space(start + 1)
        while i < end - 1:
            value_end = self._skip(i)
            spans.append((i, value_end))
            i = self._space(value_end)
            if self.text[i] == ",":
                i = self._space(i + 1)
        return spans

    def _skip(self, i: int) -> int:
        """The index just past the JSON value starting at ``i``."""
        char = self.text[i]
        if char == '"':
            return _STRING.match(self.text, i).end()
        if char not in "{[":
            return _SCALAR.match(self.text, i).end()
        closer = "}" if char == "{" else "]"
        i = self._space(i + 1)
        while self.text[i] != closer:
            if self.text[i] in ",:":
                i = self._space(i + 1)
                continue
            i = self._space(self._skip(i))
        return i + 1

    def _space(self, i: int) -> int:
        return _SPACE.match(self.text, i).end()

    def position(self, offset: int) -> Position:
        line = self.text.count("\n", 0, offset) + 1
        column = offset - self.text.rfind("\n", 0, offset)
        return Position(line, column)
