"""Wildcard patterns as IAM reads them: ``*`` is any run of characters, ``?`` any one.

Every other character is literal (a ``.`` in an ARN is a dot). Patterns are compiled to
regular expressions once, when a policy is parsed, and cached by their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_WILDCARDS = re.compile(r"[*?]")


def has_wildcard(text: str) -> bool:
    """Whether ``text`` contains ``*`` or ``?``."""
    return "*" in text or "?" in text


def glob_fragment(text: str) -> str:
    """The regular-expression source for the wildcard pattern ``text``."""
    pieces: list[str] = []
    last = 0
    for found in _WILDCARDS.finditer(text):
        pieces.append(re.escape(text[last : found.start()]))
        pieces.append(".*" if found.group() == "*" else ".")
        last = found.end()
    pieces.append(re.escape(text[last:]))
    return "".join(pieces)


@lru_cache(maxsize=8192)
def compile_fragments(fragments: tuple[str, ...]) -> re.Pattern[str]:
    """One anchored regular expression matching any of the regex ``fragments``."""
    return re.compile("(?:" + "|".join(fragments) + r")\Z", re.DOTALL)


def compile_glob(text: str) -> re.Pattern[str]:
    """The anchored, cached regular expression for one wildcard pattern."""
    return compile_fragments((glob_fragment(text),))


@dataclass(frozen=True, slots=True)
class WildcardSet:
    """A set of wildcard patterns with fast paths for ``*`` and literal entries."""

    any: bool
    exact: frozenset[str]
    regex: re.Pattern[str] | None

    @classmethod
    def build(cls, patterns: Iterable[str]) -> WildcardSet:
        """Compile ``patterns`` (already case-folded where matching ignores case)."""
        exact: set[str] = set()
        wild: list[str] = []
        for pattern in patterns:
            if pattern == "*":
                return cls(True, frozenset(), None)
            if has_wildcard(pattern):
                wild.append(glob_fragment(pattern))
            else:
                exact.add(pattern)
        regex = compile_fragments(tuple(sorted(set(wild)))) if wild else None
        return cls(False, frozenset(exact), regex)

    def matches(self, value: str) -> bool:
        """Whether ``value`` matches any pattern of the set."""
        if self.any or value in self.exact:
            return True
        return self.regex is not None and self.regex.match(value) is not None
