"""What training, processing and transform jobs' operations share: create, find, stop, list."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol, TypeVar

from shipyard.compute.capacity import check_fits
from shipyard.compute.records import Job, JobKind, job_arn
from shipyard.errors import AwsError
from shipyard.jobs.spec import Image
from shipyard.services.base import RequestContext
from shipyard.store.listing_query import ListQuery
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms, to_datetime

#: SageMaker's word for each kind, in ARNs and messages.
_TITLES = {"training": "Training", "processing": "Processing", "transform": "Transform"}

MAX_TAGS = 50


def not_found(kind: JobKind, name: str) -> AwsError:
    """AWS's answer for a job that does not exist (the SDKs look for "Could not find")."""
    return AwsError("ValidationException", f"Could not find requested job with name {name}")


def check_capacity(ctx: RequestContext, instance_type: str, count: int) -> None:
    """Refuse an unknown instance type (``ValidationException``) and a cluster this server can
    never run (``ResourceLimitExceeded``)."""
    check_fits(instance_type, count, ctx.runtime.capacity)


def check_unique(what: str, names: list[str]) -> None:
    """``ValidationException`` when a name appears twice among ``names`` (channels, inputs...)."""
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise AwsError("ValidationException", f"{what} must be unique: {', '.join(duplicates)} appears more than once.")


async def create_job(
    ctx: RequestContext,
    kind: JobKind,
    name: str,
    params: dict[str, Any],
    image: Image,
    details: dict[str, Any] | None = None,
) -> Job:
    """Store a new job (``ResourceInUse`` if the name is taken), tag it, and queue it;
    ``details`` start the job's details (with its ``image``)."""
    job = Job.new(
        kind=kind,
        region=ctx.region,
        name=name,
        arn=job_arn(kind, ctx.region, ctx.account_id, name),
        request=json_safe({key: value for key, value in params.items() if key != "Tags"}),
        details={**(details or {}), "image": asdict(image)},
        at_ms=now_ms(),
    )
    try:
        job = await ctx.runtime.jobs.create(job)
    except RecordExists:
        raise AwsError(
            "ResourceInUse",
            f"{_TITLES[kind]} job names must be unique within an AWS account and region, and a "
            f"{kind} job with this name already exists ({job.arn})",
        ) from None
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    if tags:
        await ctx.runtime.tags.set(job.arn, tags)
    ctx.runtime.supervisor.submit(job)
    return job


async def find_job(ctx: RequestContext, kind: JobKind, name: str) -> Job:
    job = await ctx.runtime.jobs.get(kind, ctx.region, name)
    if job is None:
        raise not_found(kind, name)
    return job


async def stop_job(ctx: RequestContext, kind: JobKind, name: str) -> None:
    """Record the stop, then have the supervisor act on it (SIGTERM to the job)."""
    job = await find_job(ctx, kind, name)

    def stop(stored: Job) -> None:
        if stored.status != "InProgress":
            raise AwsError(
                "ValidationException",
                f"The request was rejected because the {kind} job is in status {stored.status}.",
            )
        stored.stop_reason = "user"
        stored.status = "Stopping"
        stored.set_secondary("Stopping", stored.message("Stopping"), now_ms())

    stored, _ = await ctx.runtime.jobs.mutate(job.id, stop)
    await ctx.runtime.supervisor.stop(stored)


async def list_jobs(ctx: RequestContext, kind: JobKind, params: dict[str, Any]) -> tuple[list[Job], str | None]:
    """One page of jobs as List*Jobs filters, sorts and pages them; and the next token."""
    return await list_page(params, lambda query: ctx.runtime.jobs.list(kind, ctx.region, query))


class Listed(Protocol):
    """What a listed row has that sorting and paging need."""

    id: int
    name: str
    status: str
    created_ms: int


Row = TypeVar("Row", bound=Listed)


async def list_page(
    params: dict[str, Any], fetch: Callable[[ListQuery], Awaitable[list[Row]]]
) -> tuple[list[Row], str | None]:
    """One page of a SageMaker List* operation (``NameContains``, ``StatusEquals``, time
    bounds, ``SortBy``, ``SortOrder``, ``MaxResults``, ``NextToken``); and the next token.

    ``fetch`` runs the query and returns up to ``limit`` + 1 rows.
    """
    sort_by = params.get("SortBy") or "CreationTime"
    descending = (params.get("SortOrder") or "Descending") == "Descending"
    limit = params.get("MaxResults") or 10
    after = None
    if params.get("NextToken"):
        after = _decode_token(params["NextToken"], sort_by, descending)
    query = ListQuery(
        name_contains=params.get("NameContains"),
        status=params.get("StatusEquals"),
        created_after_ms=_ms(params.get("CreationTimeAfter")),
        created_before_ms=_ms(params.get("CreationTimeBefore")),
        modified_after_ms=_ms(params.get("LastModifiedTimeAfter")),
        modified_before_ms=_ms(params.get("LastModifiedTimeBefore")),
        sort_by=sort_by,
        descending=descending,
        after=after,
        limit=limit,
    )
    found = await fetch(query)
    page = found[:limit]
    token = None
    if len(found) > limit:
        last = page[-1]
        value = {"Name": last.name, "Status": last.status}.get(sort_by, last.created_ms)
        token = _encode_token({"v": value, "i": last.id, "s": sort_by, "d": descending})
    return page, token


def times(job: Job) -> dict[str, datetime]:
    """CreationTime and LastModifiedTime."""
    return {"CreationTime": to_datetime(job.created_ms), "LastModifiedTime": to_datetime(job.modified_ms)}


def optional_time(details: dict[str, Any], key: str) -> datetime | None:
    value = details.get(key)
    return None if value is None else to_datetime(value)


def json_safe(value: Any) -> Any:
    """Request parameters as JSON can hold them (timestamps as epoch seconds)."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def drop_none(output: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in output.items() if value is not None}


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _encode_token(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode("ascii")


def _decode_token(token: str, sort_by: str, descending: bool) -> tuple[Any, int]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        if payload["s"] == sort_by and payload["d"] == descending and isinstance(payload["i"], int):
            return payload["v"], payload["i"]
    except (ValueError, KeyError, TypeError, UnicodeEncodeError, binascii.Error):
        pass
    raise AwsError("ValidationException", "Invalid pagination token because of mismatched or invalid request parameters.")
