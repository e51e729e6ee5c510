"""The audit log on a real SQLite database: group commit, lookups, and a store that fails."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from shipyard.audit import Attribute, AuditEvent, AuditLog, LookupQuery
from shipyard.audit.group_commit import GroupCommit
from shipyard.errors import AwsError
from shipyard.store.database import Database

pytestmark = pytest.mark.anyio

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'audit.db'}", durable=False)
    database.migrate()
    yield database
    await database.close()


def event(n: int, **changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "time": T0 + timedelta(seconds=n),
        "request_id": f"REQ{n:04d}",
        "service": "s3",
        "event_source": "s3.amazonaws.com",
        "operation": "PutObject",
        "principal_arn": "arn:aws:iam::123456789012:user/alice",
        "principal_kind": "user",
        "username": "alice",
        "access_key_id": "AKIAALICE",
        "source_ip": "127.0.0.1",
        "user_agent": "test",
        "region": "us-east-1",
        "resources": ("arn:aws:s3:::data", "arn:aws:s3:::data/k"),
        "parameters": {"Bucket": "data", "Key": "k"},
    }
    values.update(changes)
    return AuditEvent(**values)


async def test_recorded_events_come_back_newest_first_as_recorded(
    database: Database,
) -> None:
    log = AuditLog(database)
    recorded = [event(n) for n in range(3)]
    for item in recorded:
        await log.record(item)
    page = await log.lookup(LookupQuery(), limit=10)
    assert page.events == list(reversed(recorded)) and page.next is None


async def test_concurrent_records_share_transactions_and_all_land(
    database: Database,
) -> None:
    log = AuditLog(database)
    await asyncio.gather(*(log.record(event(n)) for n in range(200)))
    events = (await log.lookup(LookupQuery(), limit=50)).events
    assert [e.request_id for e in events] == [
        f"REQ{n:04d}" for n in range(199, 149, -1)
    ]
    count = database.read_sync(
        lambda conn: conn.execute(text("SELECT count(*) FROM audit_events")).scalar()
    )
    assert count == 200


async def test_group_commit_batches_what_queues_while_a_write_runs() -> None:
    batches: list[list[int]] = []

    async def write(batch: list[int]) -> None:
        batches.append(batch)
        await asyncio.sleep(0.01)

    commits = GroupCommit(write, max_batch=30)
    await asyncio.gather(*(commits.submit(n) for n in range(61)))
    assert batches == [list(range(30)), list(range(30, 60)), [60]]
    batches.clear()
    first = asyncio.ensure_future(commits.submit(0))
    await asyncio.sleep(0)  # its write is now under way
    await asyncio.gather(first, *(commits.submit(n) for n in range(1, 11)))
    assert batches == [[0], list(range(1, 11))]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_still_commits() -> (
    None
):
    attempts = 0

    async def write(batch: list[int]) -> None:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 2:
            raise OSError("disk full")

    commits = GroupCommit(write)
    first = asyncio.ensure_future(commits.submit(0))
    await asyncio.sleep(0)
    results = await asyncio.gather(
        *(commits.submit(n) for n in range(1, 6)), return_exceptions=True
    )
    assert await first is None
    assert all(isinstance(r, OSError) for r in results) and len(results) == 5
    await commits.submit(6)
    assert attempts == 3


@pytest.mark.parametrize(
    ("attribute", "value", "expected"),
    [
        (Attribute.USERNAME, "bob", [2]),
        (Attribute.EVENT_NAME, "GetObject", [3, 1]),
        (Attribute.ACCESS_KEY_ID, "AKIABOB", [2]),
        (Attribute.EVENT_SOURCE, "iam.amazonaws.com", [4]),
        (Attribute.RESOURCE_NAME, "other", [3]),
        (Attribute.RESOURCE_NAME, "arn:aws:s3:::data/k", [2, 1, 0]),
        (Attribute.RESOURCE_TYPE, "AWS::IAM::User", [4]),
        (Attribute.READ_ONLY, "true", [3, 1]),
        (Attribute.READ_ONLY, "false", [4, 2, 0]),
    ],
)
async def test_lookup_by_each_attribute(
    database: Database, attribute: Attribute, value: str, expected: list[int]
) -> None:
    log = AuditLog(database)
    events = [
        event(0),
        event(1, operation="GetObject", read_only=True),
        event(2, username="bob", access_key_id="AKIABOB"),
        event(
            3, operation="GetObject", read_only=True, resources=("arn:aws:s3:::other",)
        ),
        event(
            4,
            service="iam",
            event_source="iam.amazonaws.com",
            operation="CreateUser",
            resources=("arn:aws:iam::123456789012:user/carol",),
        ),
    ]
    await asyncio.gather(*(log.record(e) for e in events))
    page = await log.lookup(LookupQuery(attribute, value), limit=10)
    assert [e.request_id for e in page.events] == [f"REQ{n:04d}" for n in expected]
    by_id = await log.lookup(
        LookupQuery(Attribute.EVENT_ID, events[2].event_id), limit=10
    )
    assert by_id.events == [events[2]]


async def test_time_range_and_pages(database: Database) -> None:
    log = AuditLog(database)
    # Two events in the same millisecond: pages must neither skip nor repeat them.
    await asyncio.gather(
        *(
            log.record(e)
            for e in [event(n) for n in range(10)] + [event(5, request_id="TWIN")]
        )
    )
    query = LookupQuery(start=T0 + timedelta(seconds=2), end=T0 + timedelta(seconds=7))
    seen: list[str] = []
    after = None
    while True:
        page = await log.lookup(query, limit=2, after=after)
        seen += [e.request_id for e in page.events]
        if page.next is None:
            break
        after = page.next
    assert sorted(seen) == sorted(
        ["REQ0007", "REQ0006", "REQ0005", "TWIN", "REQ0004", "REQ0003", "REQ0002"]
    )
    assert len(seen) == 7 and seen[0] == "REQ0007" and seen[-1] == "REQ0002"


async def test_a_store_that_cannot_be_written_fails_every_waiting_record(
    database: Database,
) -> None:
    log = AuditLog(database)
    await log.record(event(0))

    def drop(conn) -> None:
        conn.execute(text("DROP TABLE audit_resources"))
        conn.execute(text("DROP TABLE audit_events"))

    database.write_sync(drop)
    results = await asyncio.gather(
        *(log.record(event(n)) for n in range(1, 6)), return_exceptions=True
    )
    assert len(results) == 5
    for result in results:
        assert isinstance(result, AwsError)
        assert (result.code, result.status) == ("ServiceUnavailable", 503)


async def test_a_read_only_database_file_fails_the_record(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    writable = Database(f"sqlite:///{path}", durable=False)
    writable.migrate()
    writable.close_sync()
    read_only = Database(f"sqlite:///{path}?mode=ro&uri=true", durable=False)
    try:
        with pytest.raises(AwsError) as raised:
            await AuditLog(read_only).record(event(0))
        assert (raised.value.code, raised.value.status) == ("ServiceUnavailable", 503)
    finally:
        await read_only.close()
