"""CloudWatch metric math: ``GetMetricData``'s ``Expression`` queries.

An expression combines the results of other queries of the same request, named by their
``Id``: numbers and series with ``+ - * /``, parentheses and unary minus; ``[m1, m2]``
lists; ``SUM``, ``AVG``, ``MIN``, ``MAX`` of a list (a series per timestamp) or of one
series (a number); ``METRICS()`` (every ``MetricStat`` query's series, or those whose Id
contains ``METRICS("text")``'s text). Series align on their timestamps: arithmetic between
two keeps the timestamps both have, and a result that is not a finite number is left out.

:func:`evaluate_queries` runs a whole list of ``MetricDataQuery`` structures over a time
range against a :class:`~shipyard.monitoring.metric_store.MetricStore`; the CloudWatch API
and alarms on metric math both use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.errors import AwsError
from shipyard.monitoring.errors import validation_error
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


@dataclass(frozen=True)
class Series:
    """One time series: values by period start (epoch milliseconds)."""

    label: str
    points: Mapping[int, float]


#: What an expression evaluates to.
Value = float | Series | list[Series]
#: A parsed expression: ``("num", x)``, ``("id", name)``, ``("str", text)``, ``("neg", node)``,
#: ``("op", "+", left, right)``, ``("list", [nodes])``, ``("call", NAME, [nodes])``.
Node = tuple[Any, ...]


class ExpressionError(Exception):
    """An expression that cannot be parsed or evaluated; the message says why."""


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
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<str>\"[^\"]*\")|(?P<sym>[-+*/()\[\],]))"
)
FUNCTIONS = ("SUM", "AVG", "MIN", "MAX", "METRICS")


def parse(text: str) -> Node:
    """The syntax tree of ``text``; raises :class:`ExpressionError`."""
    tokens: list[tuple[str, str, int]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if not text[position:].strip():
                break
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
        node = self.term()
        while self.peek() in ("+", "-"):
            node = ("op", self.take()[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            node = ("op", self.take()[1], node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        if self.peek() == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> Node:
        kind, token, at = self.take()
        if kind == "num":
            return ("num", float(token))
        if kind == "str":
            return ("str", token[1:-1])
        if kind == "name":
            if self.peek() == "(":
                if token not in FUNCTIONS:
                    raise ExpressionError(f"Unknown function {token} at position {at}")
                self.take("(")
                arguments = [] if self.peek() == ")" else self.items()
                self.take(")")
                return ("call", token, arguments)
            return ("id", token)
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
    if kind == "neg":
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
}
_REDUCTIONS: dict[str, Callable[[list[float]], float]] = {
    "SUM": math.fsum,
    "AVG": lambda values: math.fsum(values) / len(values),
    "MIN": min,
    "MAX": max,
}


def evaluate(node: Node, values: Mapping[str, Value], metrics: Sequence[tuple[str, Series]]) -> Value:
    """The value of ``node`` given the values of the Ids it names; ``metrics`` are the
    (Id, series) of the request's ``MetricStat`` queries, for ``METRICS()``."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "id":
        if node[1] not in values:
            raise ExpressionError(f"Unknown metric id {node[1]}")
        return values[node[1]]
    if kind == "str":
        raise ExpressionError(f'A string ("{node[1]}") is only allowed as the argument of METRICS')
    if kind == "neg":
        return _combine("*", -1.0, evaluate(node[1], values, metrics))
    if kind == "op":
        return _combine(node[1], evaluate(node[2], values, metrics), evaluate(node[3], values, metrics))
    if kind == "list":
        found: list[Series] = []
        for item in node[1]:
            value = evaluate(item, values, metrics)
            if isinstance(value, float):
                raise ExpressionError("A list may hold time series only")
            found.extend(value if isinstance(value, list) else [value])
        return found
    name, arguments = node[1], node[2]
    if name == "METRICS":
        if len(arguments) > 1 or (arguments and arguments[0][0] != "str"):
            raise ExpressionError("METRICS takes no argument or one string")
        text = arguments[0][1] if arguments else ""
        return [series for query_id, series in metrics if text in query_id]
    if len(arguments) != 1:
        raise ExpressionError(f"{name} takes one argument")
    argument = evaluate(arguments[0], values, metrics)
    reduce = _REDUCTIONS[name]
    if isinstance(argument, float):
        raise ExpressionError(f"{name} takes a time series or a list of time series")
    if isinstance(argument, Series):
        return _finite(reduce(list(argument.points.values()))) if argument.points else math.nan
    by_time: dict[int, list[float]] = {}
    for series in argument:
        for time, value in series.points.items():
            by_time.setdefault(time, []).append(value)
    return _series(name, {time: reduce(found) for time, found in by_time.items()})


def _combine(op: str, left: Value, right: Value) -> Value:
    apply = _OPERATIONS[op]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            raise ExpressionError("Lists of time series must have the same length to be combined")
        return [_pair(apply, a, b) for a, b in zip(left, right, strict=True)]
    if isinstance(left, list):
        return [_pair(apply, item, right) for item in left]  # type: ignore[arg-type]
    if isinstance(right, list):
        return [_pair(apply, left, item) for item in right]
    if isinstance(left, float) and isinstance(right, float):
        return apply(left, right)
    return _pair(apply, left, right)


def _pair(apply: Callable[[float, float], float], left: float | Series, right: float | Series) -> Series:
    if isinstance(left, Series) and isinstance(right, Series):
        return _series(left.label, {t: apply(v, right.points[t]) for t, v in left.points.items() if t in right.points})
    if isinstance(left, Series):
        return _series(left.label, {t: apply(v, right) for t, v in left.points.items()})  # type: ignore[arg-type]
    assert isinstance(right, Series)
    return _series(right.label, {t: apply(left, v) for t, v in right.points.items()})


def _series(label: str, points: Mapping[int, float]) -> Series:
    return Series(label, {time: value for time, value in sorted(points.items()) if math.isfinite(value)})


def _finite(value: float) -> float:
    return value if math.isfinite(value) else math.nan


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
        try:
            value = evaluate(node, values, metrics)
        except ExpressionError as error:
            raise validation_error(f"Error in expression {query_id}: {error}") from None
        if isinstance(value, float):
            raise validation_error(f"Error in expression {query_id}: Expression must return a time series")
        if isinstance(value, Series):
            value = Series(by_id[query_id].get("Label") or query_id, value.points)
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
    return Series(query.get("Label") or key.metric_name, points), period
