"""What the hosting operations (models, endpoint configs, endpoints) share: ARNs, the
errors SageMaker answers with, create, find, delete, list and times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shipyard.errors import AwsError
from shipyard.services.base import RequestContext
from shipyard.services.sagemaker.jobs import json_safe, list_page
from shipyard.serving.records import HostingKind, HostingRecord
from shipyard.store.record_table import RecordExists
from shipyard.store.records import now_ms, to_datetime

#: How SageMaker's messages name each kind.
_WORDS = {"model": "model", "endpoint-config": "endpoint configuration", "endpoint": "endpoint"}


def hosting_arn(ctx: RequestContext, kind: HostingKind, name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:model/<name>`` (``endpoint-config/``,
    ``endpoint/``), the name lower-cased as SageMaker writes it."""
    return f"arn:aws:sagemaker:{ctx.region}:{ctx.account_id}:{kind}/{name.lower()}"


def not_found(ctx: RequestContext, kind: HostingKind, name: str) -> AwsError:
    """AWS's answer for a missing resource: ``Could not find model "<arn>".``"""
    return AwsError("ValidationException", f'Could not find {_WORDS[kind]} "{hosting_arn(ctx, kind, name)}".')


async def create_record(
    ctx: RequestContext, kind: HostingKind, name: str, params: dict[str, Any], status: str, details: dict[str, Any]
) -> HostingRecord:
    """Store a new resource from its Create* ``params`` and tag it; AWS's
    ``Cannot create already existing model "<arn>".`` if the name is taken."""
    at = now_ms()
    record = HostingRecord(
        id=0,
        kind=kind,
        region=ctx.region,
        name=name,
        arn=hosting_arn(ctx, kind, name),
        status=status,
        request=json_safe({key: value for key, value in params.items() if key != "Tags"}),
        details=details,
        created_ms=at,
        modified_ms=at,
    )
    try:
        record = await ctx.runtime.hosting.create(record)
    except RecordExists:
        raise AwsError("ValidationException", f'Cannot create already existing {_WORDS[kind]} "{record.arn}".') from None
    tags = {tag["Key"]: tag["Value"] for tag in params.get("Tags") or ()}
    if tags:
        await ctx.runtime.tags.set(record.arn, tags)
    return record


async def find_record(ctx: RequestContext, kind: HostingKind, name: str) -> HostingRecord:
    """The resource of ``kind`` named ``name``, or AWS's not-found error."""
    record = await ctx.runtime.hosting.get(kind, ctx.region, name)
    if record is None:
        raise not_found(ctx, kind, name)
    return record


async def delete_record(ctx: RequestContext, kind: HostingKind, name: str) -> HostingRecord:
    """Remove the resource and its tags (AWS's not-found error if there is none); what it was."""
    record = await find_record(ctx, kind, name)
    if not await ctx.runtime.hosting.delete(record.id):
        raise not_found(ctx, kind, name)
    await ctx.runtime.tags.remove(record.arn, list(await ctx.runtime.tags.tags(record.arn)))
    return record


async def list_records(
    ctx: RequestContext, kind: HostingKind, params: dict[str, Any]
) -> tuple[list[HostingRecord], str | None]:
    """One page of a List* operation over resources of ``kind``; and the next token."""
    return await list_page(params, lambda query: ctx.runtime.hosting.list(kind, ctx.region, query))


def creation_time(record: HostingRecord) -> dict[str, datetime]:
    """CreationTime (models and endpoint configs never change)."""
    return {"CreationTime": to_datetime(record.created_ms)}


def times(record: HostingRecord) -> dict[str, datetime]:
    """CreationTime and LastModifiedTime."""
    return {**creation_time(record), "LastModifiedTime": to_datetime(record.modified_ms)}
