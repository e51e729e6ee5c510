"""CloudWatch metric math: ``GetMetricData``'s ``Expression`` queries.

An expression combines the results of other queries of the same request, named by their
``Id``, with numbers, ``[m1, m2]`` lists, operators and functions. From the loosest binding:
``OR`` (or ``||``), ``AND`` (or ``&&``), ``NOT``, the comparisons ``== != < <= > >=``,
``+ -``, ``* /``, unary minus, then ``^`` (right to left: ``-2^2`` is -4, ``2^3^2`` is 512);
parentheses group. Comparisons and logical operators give 1 or 0 (any value other than 0 is
true). Arithmetic between two series keeps the timestamps both have; a comparison or a
logical operator between two series counts a point one of them lacks as 0, as CloudWatch
documents. A number or a series combines with each series of a list, and two lists of the
same length pair up. A result that is not a finite number is left out.

Functions: ``METRICS()`` (every ``MetricStat`` query's series, or those whose Id contains
``METRICS("text")``'s text), ``PERIOD(m1)`` (a ``MetricStat`` query's period in seconds) and
those of :mod:`~shipyard.monitoring.math_functions` (``ABS``, ``CEIL``, ``FLOOR``, ``LOG``,
``LOG10``, ``SQRT``, ``DIFF``, ``DIFF_TIME``, ``RATE``, ``RUNNING_SUM``, ``SUM``, ``AVG``,
``MIN``, ``MAX``, ``STDDEV``, ``DATAPOINT_COUNT``, ``FIRST``, ``LAST``, ``REMOVE_EMPTY``,
``IF``, ``FILL`` and ``TIME_SERIES``). ``SEARCH``, Metrics Insights queries and the other
CloudWatch functions are refused by name.

:func:`evaluate_queries` runs a whole list of ``MetricDataQuery`` structures over a time
range against a :class:`~shipyard.monitoring.metric_store.MetricStore`; the CloudWatch API
and alarms on metric math both use it. ``FILL`` and ``TIME_SERIES`` lay series out on the
range's periods: each series' own period, else the expression's (its inputs' shortest),
else the request's shortest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.errors import validation_error
from shipyard.monitoring.math_functions import (
    FILL_KEYWORDS,
    FUNCTIONS,
    NOT_SERVED,
    Argument,
    ExpressionError,
    Series,
    Value,
    Window,
    call,
    derive,
    map_values,
    safely,
)
from shipyard.monitoring.metric_store import MINUTE_MS, MetricKey, MetricStore
from shipyard.monitoring.statistics import (
    aligned_start,
    datapoints,
    is_period,
    is_statistic,
    needs_sketch,
)

#: A query Id: a lowercase letter, then letters, digits and underscores.
QUERY_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
#: The most queries one request may hold, as CloudWatch allows.
MAX_QUERIES = 500
MAX_EXPRESSION_LENGTH = 2048

#: A parsed expression: ``("num", x)``, ``("id", name)``, ``("str", text)``, ``("keyword",
#: REPEAT or LINEAR)``, ``("neg", node)``, ``("not", node)``, ``("op", operator, left, right)``
#: (``AND``/``OR`` for their symbols too), ``("list", [nodes])``, ``("call", NAME, [nodes])``.
Node = tuple[Any, ...]


@dataclass(frozen=True)
class QueryResult:
    """The outcome of one query: its series (an expression may give several)."""

    id: str
    series: list[Series]
    return_data: bool
    #: The period in seconds: the MetricStat's, or for an expression its inputs' shortest.
    period_s: int | None


# --- Parsing ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>\"[^\"]*\")"
    r"|(?P<sym>==|!=|<=|>=|&&|\|\||[-+*/^<>()\[\],]))"
)
#: Functions that name the request's queries rather than take values.
QUERY_FUNCTIONS = ("METRICS", "PERIOD")
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_WORD_OPERATORS = ("AND", "OR", "NOT")


def parse(text: str) -> Node:
    """The syntax tree of ``text``; raises :class:`ExpressionError`."""
    if re.match(r"\s*SELECT\b", text, re.IGNORECASE):
        raise ExpressionError("Metrics Insights queries (SELECT ...) are not supported")
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if not text[position:].strip():
                break
            _refuse_not_served(tokens)  # SEARCH's own syntax is not ours to tokenize
            rest = text[position:].lstrip()
            raise ExpressionError(f"Unrecognized token '{rest[0]}' at position {len(text) - len(rest) + 1}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.position < len(tokens):
        _, token, at = tokens[parser.position]
        raise ExpressionError(f"Unexpected '{token}' at position {at}")
    return node


def _refuse_not_served(tokens: list[tuple[str, str, int]]) -> None:
    for (kind, name, _), following in pairwise(tokens):
        if kind == "name" and name in NOT_SERVED and following[1] == "(":
            raise ExpressionError(f"The function {name} is not supported")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str, int]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str, int]:
        if self.position >= len(self.tokens):
            raise ExpressionError("Unexpected end of expression" + (f", expected '{expected}'" if expected else ""))
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"Expected '{expected}' at position {token[2]}, found '{token[1]}'")
        self.position += 1
        return token

    def expression(self) -> Node:
        node = self.conjunction()
        while self.peek() in ("OR", "||"):
            self.take()
            node = ("op", "OR", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.peek() in ("AND", "&&"):
            self.take()
            node = ("op", "AND", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.peek() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        return self.binary(self.sum, _COMPARISONS)

    def sum(self) -> Node:
        return self.binary(self.term, ("+", "-"))

    def term(self) -> Node:
        return self.binary(self.unary, ("*", "/"))

    def binary(self, operand: Callable[[], Node], operators: tuple[str, ...]) -> Node:
        node = operand()
        while self.peek() in operators:
            node = ("op", self.take()[1], node, operand())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        node = self.atom()
        if self.peek() == "^":
            self.take()
            node = ("op", "^", node, self.unary())
        return node

    def atom(self) -> Node:
        kind, token, at = self.take()
        if kind == "num":
            return ("num", float(token))
        if kind == "str":
            return ("str", token[1:-1])
        if kind == "name" and token not in _WORD_OPERATORS:
            if self.peek() == "(":
                _refuse_not_served(self.tokens[self.position - 1 : self.position + 1])
                if token not in FUNCTIONS and token not in QUERY_FUNCTIONS:
                    raise ExpressionError(f"Unknown function {token} at position {at}")
                self.take("(")
                arguments = [] if self.peek() == ")" else self.items()
                self.take(")")
                return ("call", token, arguments)
            return ("keyword", token) if token in FILL_KEYWORDS else ("id", token)
        if token == "(":
            node = self.expression()
            self.take(")")
            return node
        if token == "[":
            items = self.items()
            self.take("]")
            return ("list", items)
        raise ExpressionError(f"Unexpected '{token}' at position {at}")

    def items(self) -> list[Node]:
        items = [self.expression()]
        while self.peek() == ",":
            self.take()
            items.append(self.expression())
        return items


def references(node: Node) -> set[str]:
    """The query Ids ``node`` names."""
    kind = node[0]
    if kind == "id":
        return {node[1]}
    return set().union(*(references(child) for child in _children(node)))


def calls_metrics(node: Node) -> bool:
    """Whether ``node`` uses ``METRICS()`` (so it depends on every ``MetricStat`` query)."""
    return (node[0] == "call" and node[1] == "METRICS") or any(calls_metrics(child) for child in _children(node))


def _children(node: Node) -> list[Node]:
    kind = node[0]
    if kind in ("neg", "not"):
        return [node[1]]
    if kind == "op":
        return [node[2], node[3]]
    if kind in ("list", "call"):
        return list(node[-1])
    return []


# --- Evaluation ------------------------------------------------------------------------

_OPERATIONS: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b else math.nan,
    "^": safely(math.pow),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}
#: Operators for which a point one series lacks counts as 0 (the others keep shared points).
_ZERO_FILLED = frozenset((*_COMPARISONS, "AND", "OR"))


@dataclass(frozen=True)
class Scope:
    """What an expression is evaluated against."""

    #: The values of the Ids it may name.
    values: Mapping[str, Value]
    #: The (Id, series) of the request's ``MetricStat`` queries, for ``METRICS()`` and ``PERIOD()``.
    metrics: Sequence[tuple[str, Series]]
    window: Window


def evaluate(node: Node, scope: Scope) -> Value:
    """The value of ``node`` in ``scope``; raises :class:`ExpressionError`."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "id":
        if node[1] not in scope.values:
            raise ExpressionError(f"Unknown metric id {node[1]}")
        return scope.values[node[1]]
    if kind == "str":
        raise ExpressionError(f'A string ("{node[1]}") is only allowed as the argument of METRICS')
    if kind == "keyword":
        raise ExpressionError(f"{node[1]} is only allowed as the second argument of FILL")
    if kind == "neg":
        return _combine("*", -1.0, evaluate(node[1], scope))
    if kind == "not":
        return map_values(evaluate(node[1], scope), lambda value: float(not value), "NOT")
    if kind == "op":
        return _combine(node[1], evaluate(node[2], scope), evaluate(node[3], scope))
    if kind == "list":
        found: list[Series] = []
        for item in node[1]:
            value = evaluate(item, scope)
            if isinstance(value, float):
                raise ExpressionError("A list may hold time series only")
            found.extend(value if isinstance(value, list) else [value])
        return found
    name, arguments = node[1], node[2]
    if name == "METRICS":
        if len(arguments) > 1 or (arguments and arguments[0][0] != "str"):
            raise ExpressionError("METRICS takes no argument or one string")
        text = arguments[0][1] if arguments else ""
        return [series for query_id, series in scope.metrics if text in query_id]
    if name == "PERIOD":
        metrics = dict(scope.metrics)
        if len(arguments) != 1 or arguments[0][0] != "id" or arguments[0][1] not in metrics:
            raise ExpressionError("PERIOD takes the Id of a MetricStat query")
        return float(metrics[arguments[0][1]].period_s or 0)
    values: list[Argument] = [
        item[1] if name == "FILL" and index == 1 and item[0] == "keyword" else evaluate(item, scope)
        for index, item in enumerate(arguments)
    ]
    return call(name, values, scope.window)


def _combine(op: str, left: Value, right: Value) -> Value:
    apply = _OPERATIONS[op]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            raise ExpressionError("Lists of time series must have the same length to be combined")
        return [_pair(op, apply, a, b) for a, b in zip(left, right, strict=True)]
    if isinstance(left, list):
        return [_pair(op, apply, item, right) for item in left]  # type: ignore[arg-type]
    if isinstance(right, list):
        return [_pair(op, apply, left, item) for item in right]
    if isinstance(left, float) and isinstance(right, float):
        return apply(left, right)
    return _pair(op, apply, left, right)


def _pair(op: str, apply: Callable[[float, float], float], left: float | Series, right: float | Series) -> Series:
    if isinstance(left, Series) and isinstance(right, Series):
        if op in _ZERO_FILLED:
            times = left.points.keys() | right.points.keys()
            return derive(left, {t: apply(left.points.get(t, 0.0), right.points.get(t, 0.0)) for t in times})
        return derive(left, {t: apply(v, right.points[t]) for t, v in left.points.items() if t in right.points})
    if isinstance(left, Series):
        return derive(left, {t: apply(v, right) for t, v in left.points.items()})  # type: ignore[arg-type]
    assert isinstance(right, Series)
    return derive(right, {t: apply(left, v) for t, v in right.points.items()})


# --- Queries ---------------------------------------------------------------------------


async def evaluate_queries(
    store: MetricStore, region: str, queries: Sequence[Mapping[str, Any]], start_ms: int, end_ms: int
) -> list[QueryResult]:
    """Run ``GetMetricData``'s ``MetricDataQueries`` over [start_ms, end_ms): each
    ``MetricStat`` reads the store, each ``Expression`` combines other queries' results.

    Results come in the queries' order, oldest point first. Bad queries raise
    CloudWatch's ``ValidationError`` (or ``InvalidParameterValue``) as :class:`AwsError`.
    """
    if len(queries) > MAX_QUERIES:
        raise validation_error(f"The collection MetricDataQueries must not have a size greater than {MAX_QUERIES}.")
    by_id: dict[str, Mapping[str, Any]] = {}
    parsed: dict[str, Node] = {}
    for query in queries:
        query_id = query["Id"]
        if not QUERY_ID.fullmatch(query_id):
            raise validation_error(
                f"Invalid metric data query id {query_id}: the Id must start with a lowercase letter and contain"
                " only letters, numbers and underscores."
            )
        if query_id in by_id:
            raise validation_error(f"The value {query_id} for parameter MetricDataQueries.Id is duplicated.")
        by_id[query_id] = query
        has_stat, expression = query.get("MetricStat") is not None, query.get("Expression")
        if has_stat == (expression is not None) or query.get("MetricStat") == {}:
            raise validation_error(
                f"Exactly one of MetricStat and Expression must be specified in MetricDataQuery {query_id}."
            )
        if expression is not None:
            if len(expression) > MAX_EXPRESSION_LENGTH:
                raise validation_error(f"Error in expression {query_id}: longer than {MAX_EXPRESSION_LENGTH} characters")
            try:
                parsed[query_id] = parse(expression)
            except ExpressionError as error:
                raise validation_error(f"Error in expression {query_id}: {error}") from None
    for query_id, node in parsed.items():
        for name in sorted(references(node)):
            if name not in by_id:
                raise validation_error(f"Error in expression {query_id}: Unrecognized metric id {name}")
            if name == query_id:
                raise validation_error(f"Error in expression {query_id}: An expression cannot reference itself")

    values: dict[str, Value] = {}
    periods: dict[str, int | None] = {}
    metrics: list[tuple[str, Series]] = []
    for query_id, query in by_id.items():
        if query_id not in parsed:
            series, period = await _metric_stat(store, region, query, start_ms, end_ms)
            values[query_id], periods[query_id] = series, period
            metrics.append((query_id, series))
    shortest = min((series.period_s for _, series in metrics if series.period_s), default=None)

    visiting: set[str] = set()

    def resolve(query_id: str) -> None:
        if query_id in values:
            return
        if query_id in visiting:
            raise validation_error(f"Error in expression {query_id}: Circular dependency between expressions")
        visiting.add(query_id)
        node = parsed[query_id]
        for name in references(node):
            resolve(name)
        inputs = [periods[name] for name in (by_id if calls_metrics(node) else references(node)) if periods.get(name)]
        periods[query_id] = min(inputs) if inputs else None
        window = Window(start_ms, end_ms, periods[query_id] or shortest)
        try:
            value = evaluate(node, Scope(values, metrics, window))
        except ExpressionError as error:
            raise validation_error(f"Error in expression {query_id}: {error}") from None
        if isinstance(value, float):
            raise validation_error(f"Error in expression {query_id}: Expression must return a time series")
        if isinstance(value, Series):
            value = Series(by_id[query_id].get("Label") or query_id, value.points, value.period_s)
        values[query_id] = value

    for query_id in parsed:
        resolve(query_id)

    results = []
    for query_id, query in by_id.items():
        value = values[query_id]
        series = value if isinstance(value, list) else [value]  # type: ignore[list-item]
        results.append(QueryResult(query_id, series, bool(query.get("ReturnData", True)), periods[query_id]))
    return results


async def _metric_stat(
    store: MetricStore, region: str, query: Mapping[str, Any], start_ms: int, end_ms: int
) -> tuple[Series, int]:
    stat, query_id = query["MetricStat"], query["Id"]
    name = stat.get("Stat", "")
    if not is_statistic(name):
        raise AwsError("InvalidParameterValue", f"The value {name} for parameter MetricDataQueries.MetricStat.Stat is not valid.", 400)
    period = int(stat.get("Period", 0))
    if not is_period(period):
        raise AwsError(
            "InvalidParameterValue",
            f"The parameter MetricDataQueries.MetricStat.Period of query {query_id} must be 1, 5, 10, 30 or a multiple of 60.",
            400,
        )
    metric = stat.get("Metric") or {}
    key = MetricKey(
        region,
        metric.get("Namespace", ""),
        metric.get("MetricName", ""),
        tuple(sorted((item["Name"], item["Value"]) for item in metric.get("Dimensions", ()))),
    )
    period_ms, unit = max(period * 1000, MINUTE_MS), stat.get("Unit")
    if needs_sketch(name):
        rows = await store.minutes(key, aligned_start(start_ms), end_ms, unit, sketches=True)
    else:
        rows = await store.periods(key, start_ms, end_ms, period_ms, unit)
    points = {}
    for point in datapoints(rows, start_ms=start_ms, period_ms=period_ms):
        value = point.statistic(name)
        if value is not None:
            points[point.timestamp_ms] = value
    return Series(query.get("Label") or key.metric_name, points, period), period
