"""The log store on a real SQLite database: append (the job runner's API), reads, retention."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shipyard.errors import AwsError
from shipyard.logs import LogStore, Position, StreamOrder
from shipyard.logs.patterns import parse
from shipyard.logs.records import DAY_MS
from shipyard.store.database import Database

pytestmark = pytest.mark.anyio

NOW = 1_800_000_000_000


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'logs.db'}", durable=False)
    database.migrate()
    yield database
    await database.close()


@pytest.fixture
def clock() -> list[int]:
    return [NOW]


@pytest.fixture
def store(database: Database, clock: list[int]) -> LogStore:
    return LogStore(database, region="eu-west-1", clock=lambda: clock[0])


async def test_append_creates_the_group_and_stream_and_keeps_their_summary(store: LogStore) -> None:
    assert await store.append("/aws/sagemaker/TrainingJobs", "job/algo-1", [(NOW - 5, "a"), (NOW - 1, "b")]) == 2
    assert await store.append("/aws/sagemaker/TrainingJobs", "job/algo-1", [(NOW - 9, "c")]) == 3
    group = await store.group("eu-west-1", "/aws/sagemaker/TrainingJobs")
    assert group.arn("123456789012") == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/sagemaker/TrainingJobs"
    [(_, stream)] = await store.streams("eu-west-1", group.name, limit=10)
    assert (stream.first_event_ms, stream.last_event_ms, stream.last_ingestion_ms) == (NOW - 9, NOW - 1, NOW)
    events = await store.read("eu-west-1", group.name, "job/algo-1", limit=10, max_bytes=1 << 20)
    assert [event.message for event in events] == ["c", "a", "b"]


async def test_append_without_create_needs_the_stream(store: LogStore) -> None:
    with pytest.raises(AwsError) as missing_group:
        await store.append("g", "s", [(NOW, "x")], create=False)
    assert missing_group.value.message == "The specified log group does not exist."
    await store.create_group("eu-west-1", "g")
    with pytest.raises(AwsError) as missing_stream:
        await store.append("g", "s", [(NOW, "x")], create=False)
    assert missing_stream.value.message == "The specified log stream does not exist."


async def test_reads_go_both_ways_from_a_boundary_and_respect_the_byte_budget(store: LogStore) -> None:
    await store.append("g", "s", [(NOW + i, f"m{i}") for i in range(5)])
    head = await store.read("eu-west-1", "g", "s", limit=2, max_bytes=1 << 20)
    assert [event.message for event in head] == ["m0", "m1"]
    after = await store.read("eu-west-1", "g", "s", boundary=head[-1].position, limit=10, max_bytes=1 << 20)
    assert [event.message for event in after] == ["m2", "m3", "m4"]
    before = await store.read(
        "eu-west-1", "g", "s", boundary=after[-1].position, forward=False, limit=2, max_bytes=1 << 20
    )
    assert [event.message for event in before] == ["m2", "m3"]
    assert len(await store.read("eu-west-1", "g", "s", limit=10, max_bytes=2 * 28)) == 2


async def test_retention_hides_and_then_deletes_expired_events(store: LogStore, clock: list[int]) -> None:
    await store.append("g", "s", [(NOW - 3 * DAY_MS, "old"), (NOW, "new")])
    await store.set_retention("eu-west-1", "g", 1)
    events = await store.read("eu-west-1", "g", "s", limit=10, max_bytes=1 << 20)
    assert [event.message for event in events] == ["new"]
    clock[0] = NOW + 2 * DAY_MS
    await store.append("g", "s", [(clock[0], "later")])
    await store.set_retention("eu-west-1", "g", None)
    events = await store.read("eu-west-1", "g", "s", limit=10, max_bytes=1 << 20)
    assert [event.message for event in events] == ["later"]


async def test_scan_interleaves_streams_by_time(store: LogStore) -> None:
    await store.append("g", "a", [(NOW, "a0"), (NOW + 2, "a2")])
    await store.append("g", "b", [(NOW + 1, "b1")])
    events, searched = await store.scan("eu-west-1", "g", limit=10)
    assert [(event.stream_name, event.message) for event in events] == [("a", "a0"), ("b", "b1"), ("a", "a2")]
    assert searched == ["a", "b"]
    rest, _ = await store.scan("eu-west-1", "g", after=Position(NOW, events[0].seq), stream_prefix="a", limit=10)
    assert [event.message for event in rest] == ["a2"]


async def test_streams_order_by_last_event_time(store: LogStore) -> None:
    await store.append("g", "late", [(NOW + 10, "x")])
    await store.append("g", "early", [(NOW, "x")])
    await store.create_stream("eu-west-1", "g", "empty")
    found = await store.streams("eu-west-1", "g", order=StreamOrder.LAST_EVENT_TIME, descending=True, limit=10)
    assert [stream.name for _, stream in found] == ["late", "early", "empty"]
    rest = await store.streams(
        "eu-west-1", "g", order=StreamOrder.LAST_EVENT_TIME, descending=True, after=found[0][0], limit=10
    )
    assert [stream.name for _, stream in rest] == ["early", "empty"]


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "an ERROR here", True),
        ("ERROR", "an error here", False),
        ("ERROR disk", "ERROR: disk full", True),
        ("ERROR disk", "ERROR: memory", False),
        ('"disk full"', "ERROR: disk full", True),
        ('"disk full"', "full disk", False),
        ("?ERROR ?WARN", "WARN: low", True),
        ("?ERROR ?WARN", "INFO: ok", False),
        ("ERROR -retrying", "ERROR, retrying", False),
        ("ERROR -retrying", "ERROR, giving up", True),
    ],
)
def test_term_patterns(pattern: str, message: str, expected: bool) -> None:
    assert parse(pattern).matches(message) is expected


@pytest.mark.parametrize("pattern", ['{ $.level = "error" }', "[ip, user, ...]", "%ERR.*%", '"unclosed'])
def test_other_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(AwsError) as refused:
        parse(pattern)
    assert (refused.value.code, refused.value.message) == ("InvalidParameterException", "Invalid filter pattern")
