"""A composite alarm's ``AlarmRule``: its language, parsed and evaluated (pure, no I/O).

The grammar, as CloudWatch documents it::

    rule     := term ("OR" term)*
    term     := factor ("AND" factor)*
    factor   := "NOT" factor | "(" rule ")" | "TRUE" | "FALSE" | STATE "(" alarm ")"
    STATE    := "ALARM" | "OK" | "INSUFFICIENT_DATA"
    alarm    := a name or an ARN, bare (up to a space or a parenthesis) or in double quotes

``NOT`` binds tighter than ``AND``, which binds tighter than ``OR``; keywords are upper case.
A rule names at most :data:`MAX_CHILDREN` alarms and holds at most :data:`MAX_ELEMENTS`
elements (alarm functions, ``TRUE`` / ``FALSE`` and parenthesized groups).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
#: The most characters, distinct alarms and elements one rule may hold.
MAX_LENGTH = 10_240
MAX_CHILDREN = 100
MAX_ELEMENTS = 500


class RuleError(ValueError):
    """The rule is not valid; the message says why, as CloudWatch words it."""


@dataclass(frozen=True)
class StateIs:
    """``ALARM(x)``, ``OK(x)`` or ``INSUFFICIENT_DATA(x)``: TRUE while alarm ``x`` is in ``state``."""

    state: str
    #: The alarm's name or ARN, as written (without quotes).
    alarm: str


@dataclass(frozen=True)
class Constant:
    value: bool


@dataclass(frozen=True)
class Not:
    operand: Expression


@dataclass(frozen=True)
class AllOf:
    """``a AND b AND ...``"""

    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class AnyOf:
    """``a OR b OR ...``"""

    operands: tuple[Expression, ...]


Expression = StateIs | Constant | Not | AllOf | AnyOf


def holds(expression: Expression, state_of: Callable[[str], str | None]) -> bool:
    """Whether ``expression`` is TRUE when each alarm ``x`` is in ``state_of(x)``."""
    match expression:
        case StateIs(state, alarm):
            return state_of(alarm) == state
        case Constant(value):
            return value
        case Not(operand):
            return not holds(operand, state_of)
        case AllOf(operands):
            return all(holds(operand, state_of) for operand in operands)
        case AnyOf(operands):
            return any(holds(operand, state_of) for operand in operands)
    raise TypeError(expression)


def functions(expression: Expression) -> list[StateIs]:
    """The alarm functions of ``expression``, in the order written."""
    match expression:
        case StateIs():
            return [expression]
        case Not(operand):
            return functions(operand)
        case AllOf(operands) | AnyOf(operands):
            return [found for operand in operands for found in functions(operand)]
    return []


def references(expression: Expression) -> list[str]:
    """The alarms (names or ARNs, as written) ``expression`` names, each once, in order."""
    return list(dict.fromkeys(function.alarm for function in functions(expression)))


def parse(text: str) -> Expression:
    """The expression ``text`` writes; :class:`RuleError` when it is not a valid rule."""
    if len(text) > MAX_LENGTH:
        raise RuleError(f"The AlarmRule can be at most {MAX_LENGTH} characters long.")
    parser = _Parser(text)
    expression = parser.rule()
    if parser.token is not None:
        raise parser.unsupported()
    if len(references(expression)) > MAX_CHILDREN:
        raise RuleError(f"The AlarmRule can specify as many as {MAX_CHILDREN} children alarms.")
    if parser.elements > MAX_ELEMENTS:
        raise RuleError(f"The AlarmRule expression can have as many as {MAX_ELEMENTS} elements.")
    return expression


@dataclass(frozen=True)
class _Token:
    text: str
    position: int
    #: A double-quoted alarm name (``text`` without its quotes).
    quoted: bool = False


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "()":
            found.append(_Token(char, index))
            index += 1
        elif char == '"':
            end = text.find('"', index + 1)
            if end < 0:
                raise RuleError(f"Error in AlarmRule [Unterminated quoted alarm name at char {index}]")
            found.append(_Token(text[index + 1 : end], index, quoted=True))
            index = end + 1
        else:
            start = index
            while index < len(text) and not text[index].isspace() and text[index] not in '()"':
                index += 1
            found.append(_Token(text[start:index], start))
    return found


class _Parser:
    """Recursive descent over the tokens of one rule."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._index = 0
        self._end = len(text)
        #: Alarm functions, constants and parenthesized groups read so far.
        self.elements = 0

    @property
    def token(self) -> _Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def unsupported(self, expected: str | None = None) -> RuleError:
        must = f", must be: {expected}" if expected else ""
        token = self.token
        if token is None:
            return RuleError(f"Error in AlarmRule [Unexpected end of rule at char {self._end}{must}]")
        return RuleError(f"Error in AlarmRule [Unsupported token '{token.text}' at char {token.position}{must}]")

    def _keyword(self, word: str) -> bool:
        token = self.token
        if token is not None and not token.quoted and token.text == word:
            self._index += 1
            return True
        return False

    def _expect(self, word: str) -> None:
        if not self._keyword(word):
            raise self.unsupported(f"'{word}'")

    def rule(self) -> Expression:
        operands = [self._term()]
        while self._keyword("OR"):
            operands.append(self._term())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def _term(self) -> Expression:
        operands = [self._factor()]
        while self._keyword("AND"):
            operands.append(self._factor())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def _factor(self) -> Expression:
        if self._keyword("NOT"):
            return Not(self._factor())
        if self._keyword("("):
            self.elements += 1
            inner = self.rule()
            self._expect(")")
            return inner
        for word, value in (("TRUE", True), ("FALSE", False)):
            if self._keyword(word):
                self.elements += 1
                return Constant(value)
        for state in STATES:
            if self._keyword(state):
                self._expect("(")
                token = self.token
                if token is None or (not token.quoted and token.text in ("(", ")")) or not token.text:
                    raise self.unsupported("an alarm name or ARN")
                self._index += 1
                self._expect(")")
                self.elements += 1
                return StateIs(state, token.text)
        raise self.unsupported("ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE, NOT or '('")
