"""FilterLogEvents' term patterns: terms, quoted phrases, ``?`` alternatives, ``-`` exclusions.

``ERROR Exception`` matches messages containing both (case-sensitive); ``"Out of memory"`` the
phrase; ``?ERROR ?WARN`` either; ``ERROR -Retrying`` ERROR without Retrying. JSON (``{ $.x = 1 }``),
space-delimited (``[ip, user, ...]``) and regular-expression (``%...%``) patterns are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard.errors import AwsError

_TOKEN = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


@dataclass(frozen=True)
class TermPattern:
    """A parsed pattern: every ``required`` term, any ``alternatives`` one, no ``excluded`` one."""

    required: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    def matches(self, message: str) -> bool:
        """Whether ``message`` satisfies the pattern (the empty pattern matches everything)."""
        return (
            all(term in message for term in self.required)
            and (not self.alternatives or any(term in message for term in self.alternatives))
            and not any(term in message for term in self.excluded)
        )


def parse(pattern: str | None) -> TermPattern:
    """The pattern ``pattern`` spells; ``InvalidParameterException`` for one not supported."""
    text = (pattern or "").strip()
    if text[:1] in ("{", "[", "%") or text.count('"') % 2:
        raise AwsError("InvalidParameterException", "Invalid filter pattern", 400)
    kinds: dict[str, list[str]] = {"": [], "?": [], "-": []}
    for match in _TOKEN.finditer(text):
        sign, quoted, bare = match.groups()
        term = bare if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
        if term:
            kinds[sign].append(term)
    return TermPattern(tuple(kinds[""]), tuple(kinds["?"]), tuple(kinds["-"]))
