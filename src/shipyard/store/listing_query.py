"""The filters, sort and page position of SageMaker's List* operations, as SQL.

ListTrainingJobs, ListModels, ListEndpoints... share one shape: ``NameContains``,
``StatusEquals``, creation and modification time bounds, ``SortBy`` / ``SortOrder``, and a
page token that carries the sort key and row id of the last row returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, or_, select


@dataclass(frozen=True)
class ListQuery:
    """A List* request's filters, sort and page position."""

    name_contains: str | None = None
    status: str | None = None
    created_after_ms: int | None = None
    created_before_ms: int | None = None
    modified_after_ms: int | None = None
    modified_before_ms: int | None = None
    #: "Name", "CreationTime" or "Status".
    sort_by: str = "CreationTime"
    descending: bool = True
    #: The sort key and id of the last row of the previous page.
    after: tuple[Any, int] | None = None
    limit: int = 10


def page_select(table: Table, where: list[ColumnElement[bool]], query: ListQuery) -> Select[Any]:
    """``SELECT`` of one page (``limit`` + 1 rows, so the caller sees whether more follow)
    of ``table``'s rows that match ``where`` and ``query``.

    ``table`` has the columns ``id``, ``name``, ``status``, ``created_ms`` and ``modified_ms``.
    """
    where = list(where)
    columns = table.c
    if query.name_contains:
        where.append(columns.name.contains(query.name_contains, autoescape=True))
    if query.status:
        where.append(columns.status == query.status)
    for column, after, before in (
        (columns.created_ms, query.created_after_ms, query.created_before_ms),
        (columns.modified_ms, query.modified_after_ms, query.modified_before_ms),
    ):
        if after is not None:
            where.append(column > after)
        if before is not None:
            where.append(column < before)
    column = {"Name": columns.name, "Status": columns.status}.get(query.sort_by, columns.created_ms)
    if query.after is not None:
        value, last_id = query.after
        beyond = column < value if query.descending else column > value
        tie = columns.id < last_id if query.descending else columns.id > last_id
        where.append(or_(beyond, and_(column == value, tie)))
    order = (column.desc(), columns.id.desc()) if query.descending else (column.asc(), columns.id.asc())
    return select(table).where(*where).order_by(*order).limit(query.limit + 1)
