"""Alarms as the server keeps them: rows of ``alarms``, and their ``alarm_history``.

Metric and composite alarms share one ``kind`` (:data:`KIND`), so the table's unique
(kind, region, name) keeps alarm names unique across both types, as in CloudWatch; a
composite is the row whose request has an ``AlarmRule``. ``request`` is PutMetricAlarm or
PutCompositeAlarm as the client sent it, without ``Tags`` (JSON-safe). ``details``:

- ``reason``, ``reason_data``: StateReason and StateReasonData (JSON text, may be empty);
- ``updated_ms``: when the state was last set (StateUpdatedTimestamp), ``transitioned_ms``:
  when it last changed (StateTransitionedTimestamp), ``configured_ms``: the last
  PutMetricAlarm or PutCompositeAlarm (AlarmConfigurationUpdatedTimestamp);
- ``tags``: ``{key: value}``;
- ``pending_actions``: the actions a state change owes (see :mod:`.actions`);
- ``inputs``: for a composite, what its last evaluation saw (see :mod:`.composite`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from shipyard.store.database import Database
from shipyard.store.record_table import RecordTable
from shipyard.store.tables import alarm_history, alarms

#: The kind of every alarm row, metric or composite (the name predates composites).
KIND = "metric-alarm"
#: AlarmType of the two types served (log alarms are not).
METRIC_ALARM = "MetricAlarm"
COMPOSITE_ALARM = "CompositeAlarm"


@dataclass
class Alarm:
    """One metric or composite alarm."""

    id: int
    kind: str
    region: str
    name: str
    arn: str
    #: StateValue: OK, ALARM or INSUFFICIENT_DATA.
    status: str
    request: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    modified_ms: int = 0

    @property
    def is_composite(self) -> bool:
        return "AlarmRule" in self.request

    @property
    def alarm_type(self) -> str:
        """AlarmType: MetricAlarm or CompositeAlarm."""
        return COMPOSITE_ALARM if self.is_composite else METRIC_ALARM

    @property
    def actions_enabled(self) -> bool:
        return bool(self.request.get("ActionsEnabled", True))

    def actions_for(self, state: str) -> list[str]:
        """The actions a transition into ``state`` runs."""
        member = {"OK": "OKActions", "ALARM": "AlarmActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[state]
        return list(self.request.get(member) or [])


@dataclass(frozen=True)
class HistoryItem:
    """One AlarmHistoryItem."""

    region: str
    alarm_name: str
    timestamp_ms: int
    #: ConfigurationUpdate, StateUpdate or Action.
    item_type: str
    summary: str
    #: HistoryData: a JSON document.
    data: dict[str, Any]
    alarm_type: str = METRIC_ALARM
    id: int = 0


@dataclass(frozen=True)
class HistoryQuery:
    """DescribeAlarmHistory's filters and page position."""

    region: str
    alarm_name: str | None = None
    #: AlarmTypes: the types whose items are returned.
    alarm_types: tuple[str, ...] = (METRIC_ALARM,)
    item_type: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    newest_first: bool = True
    #: The (timestamp_ms, id) of the last item of the previous page.
    after: tuple[int, int] | None = None
    limit: int = 100


class AlarmStore(RecordTable[Alarm]):
    """Alarms of every region and their history, over one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, alarms, Alarm)
        self._db = database

    async def in_region(self, region: str) -> list[Alarm]:
        """The region's alarms, by name."""
        found = await self.where(alarms.c.kind == KIND, alarms.c.region == region)
        return sorted(found, key=lambda alarm: alarm.name)

    async def every(self) -> list[Alarm]:
        """Every alarm of every region (what the evaluator walks)."""
        return await self.where(alarms.c.kind == KIND)

    async def record(self, items: Sequence[HistoryItem]) -> None:
        """Append ``items`` to the history."""
        if items:
            await self._db.write(lambda conn: append_history(conn, items))

    async def history(self, query: HistoryQuery) -> list[HistoryItem]:
        """Up to ``query.limit`` + 1 items (so the caller sees whether more follow)."""
        columns = alarm_history.c
        statement = select(alarm_history).where(columns.region == query.region, columns.alarm_type.in_(query.alarm_types))
        if query.alarm_name is not None:
            statement = statement.where(columns.alarm_name == query.alarm_name)
        if query.item_type is not None:
            statement = statement.where(columns.item_type == query.item_type)
        if query.start_ms is not None:
            statement = statement.where(columns.timestamp_ms >= query.start_ms)
        if query.end_ms is not None:
            statement = statement.where(columns.timestamp_ms <= query.end_ms)
        if query.after is not None:
            stamp, row_id = query.after
            if query.newest_first:
                statement = statement.where(
                    or_(columns.timestamp_ms < stamp, (columns.timestamp_ms == stamp) & (columns.id < row_id))
                )
            else:
                statement = statement.where(
                    or_(columns.timestamp_ms > stamp, (columns.timestamp_ms == stamp) & (columns.id > row_id))
                )
        order = (columns.timestamp_ms.desc(), columns.id.desc()) if query.newest_first else (columns.timestamp_ms, columns.id)
        statement = statement.order_by(*order).limit(query.limit + 1)
        rows = await self._db.read(lambda conn: conn.execute(statement).all())
        return [
            HistoryItem(
                region=row.region,
                alarm_name=row.alarm_name,
                timestamp_ms=row.timestamp_ms,
                item_type=row.item_type,
                summary=row.summary,
                data=json.loads(row.data),
                alarm_type=row.alarm_type,
                id=row.id,
            )
            for row in rows
        ]


def append_history(conn: Connection, items: Sequence[HistoryItem]) -> None:
    """Append ``items`` to the history within the transaction of ``conn``."""
    conn.execute(
        insert(alarm_history),
        [
            {
                "region": item.region,
                "alarm_name": item.alarm_name,
                "alarm_type": item.alarm_type,
                "timestamp_ms": item.timestamp_ms,
                "item_type": item.item_type,
                "summary": item.summary,
                "data": json.dumps(item.data, separators=(",", ":")),
            }
            for item in items
        ],
    )
