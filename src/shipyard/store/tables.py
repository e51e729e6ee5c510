"""The metadata schema, as SQLAlchemy Core tables.

The Alembic revisions under ``migrations/versions`` create exactly this schema; a test
compares the two, so a change here needs a new revision there.

Conventions: times are integer milliseconds since the epoch (UTC), which both SQLite and
PostgreSQL store and compare exactly; object keys sort by their UTF-8 bytes (SQLite's
default ``BINARY`` collation, ``COLLATE "C"`` on PostgreSQL), which is S3's listing order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: A row id that is SQLite's rowid there and a 64-bit identity on PostgreSQL.
RowId = BigInteger().with_variant(Integer(), "sqlite")

#: An S3 object key: compared byte-wise on every backend.
KeyText = Text().with_variant(Text(collation="C"), "postgresql")

#: A bucket name, listed in byte order.
BucketName = String(63).with_variant(String(63, collation="C"), "postgresql")

#: An ASCII identifier compared byte-wise (upload ids sort by initiation time).
SortableId = String(128).with_variant(String(128, collation="C"), "postgresql")

#: Where a row is the current version of its key (the partial unique index's condition).
#: Spelled per dialect as queries compare ``is_latest == true()`` (SQLite renders ``= 1``),
#: so SQLite's planner recognises the partial index.
LATEST_SQLITE = text("is_latest = 1")
LATEST_POSTGRESQL = text("is_latest")

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("secret_access_key", String(128), nullable=False),
    Column("account_id", String(12), ForeignKey("accounts.id"), nullable=False),
    Column("principal_arn", Text, nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

buckets = Table(
    "buckets",
    metadata,
    Column("name", BucketName, primary_key=True),
    Column("region", String(32), nullable=False),
    Column("owner", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    #: None (never configured), "Enabled" or "Suspended".
    Column("versioning", String(16)),
)

#: Bucket sub-resources stored as documents (policy JSON, tag sets, CORS, lifecycle...).
bucket_configs = Table(
    "bucket_configs",
    metadata,
    Column("bucket", BucketName, ForeignKey("buckets.name", ondelete="CASCADE"), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("bucket", "kind"),
)


def _content_columns() -> list[Column[Any]]:
    """What an object and a multipart upload both carry: headers, metadata, tags, class."""
    return [
        Column("content_type", Text),
        Column("content_encoding", Text),
        Column("content_disposition", Text),
        Column("content_language", Text),
        Column("cache_control", Text),
        Column("expires", Text),
        Column("user_metadata", JSON),
        Column("extra", JSON),
        Column("tags", JSON),
        Column("storage_class", String(32), nullable=False),
        Column("checksum_algorithm", String(16)),
        Column("checksum_type", String(16)),
    ]


#: One row per object version, delete markers included. ``seq`` orders versions by
#: creation (newest = highest). ``segments`` lists the blobs holding the bytes, in order,
#: as ``[blob_id, size, part_checksum]`` triples: one for a simple upload, one per part for
#: a multipart object (``parts_count`` is set only then).
object_versions = Table(
    "object_versions",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("bucket", BucketName, ForeignKey("buckets.name"), nullable=False),
    Column("key", KeyText, nullable=False),
    Column("version_id", String(64), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_delete_marker", Boolean, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80)),
    *_content_columns(),
    Column("checksum", String(128)),
    Column("parts_count", Integer),
    Column("segments", JSON),
    UniqueConstraint("bucket", "key", "version_id"),
    Index(
        "ix_object_versions_latest",
        "bucket",
        "key",
        unique=True,
        sqlite_where=LATEST_SQLITE,
        postgresql_where=LATEST_POSTGRESQL,
    ),
)

#: Versions of a key, newest first (ListObjectVersions, promoting the next newest).
Index(
    "ix_object_versions_bucket_key_seq",
    object_versions.c.bucket,
    object_versions.c.key,
    object_versions.c.seq.desc(),
)

#: In-progress multipart uploads. Upload ids sort by initiation time, as S3 lists them.
uploads = Table(
    "uploads",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("upload_id", SortableId, nullable=False, unique=True),
    Column("bucket", BucketName, ForeignKey("buckets.name"), nullable=False),
    Column("key", KeyText, nullable=False),
    Column("initiated_ms", BigInteger, nullable=False),
    Column("initiator", Text, nullable=False),
    *_content_columns(),
    Index("ix_uploads_bucket_key_upload_id", "bucket", "key", "upload_id"),
)

upload_parts = Table(
    "upload_parts",
    metadata,
    Column("upload_seq", RowId, ForeignKey("uploads.seq", ondelete="CASCADE"), nullable=False),
    Column("part_number", Integer, nullable=False),
    Column("blob", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    Column("checksum", String(128)),
    PrimaryKeyConstraint("upload_seq", "part_number"),
)

# --- IAM (users, groups, roles, policies): revision 0002 ---------------------------------

#: IAM names are unique regardless of case ("Bob" and "bob" are one user): ``name_key``
#: is the lower-cased name, unique, and every lookup by name goes through it.
#: ``tags`` is a JSON object (key -> value) in the order the tags were added.
iam_users = Table(
    "iam_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("path", String(512), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("boundary_arn", Text),
    Column("tags", JSON),
)

iam_groups = Table(
    "iam_groups",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False, unique=True),
    Column("path", String(512), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

iam_roles = Table(
    "iam_roles",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("name_key", String(64), nullable=False, unique=True),
    Column("path", String(512), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    #: The trust policy (AssumeRolePolicyDocument) as the client sent it.
    Column("trust_policy", Text, nullable=False),
    Column("description", Text),
    Column("max_session_duration", Integer, nullable=False),
    Column("boundary_arn", Text),
    Column("tags", JSON),
)

iam_group_members = Table(
    "iam_group_members",
    metadata,
    Column("group_id", String(32), ForeignKey("iam_groups.id"), nullable=False),
    Column("user_id", String(32), ForeignKey("iam_users.id"), nullable=False, index=True),
    Column("added_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("group_id", "user_id"),
)

#: Customer managed policies. AWS managed ones live in code (``shipyard.iam.managed``).
#: Version ids never repeat: ``next_version`` is the number of the next ``vN``.
iam_policies = Table(
    "iam_policies",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("name_key", String(128), nullable=False, unique=True),
    Column("path", String(512), nullable=False),
    Column("arn", Text, nullable=False, unique=True),
    Column("description", Text),
    Column("default_version", String(16), nullable=False),
    Column("next_version", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("tags", JSON),
)

iam_policy_versions = Table(
    "iam_policy_versions",
    metadata,
    Column("policy_id", String(32), ForeignKey("iam_policies.id", ondelete="CASCADE"), nullable=False),
    Column("version_id", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("policy_id", "version_id"),
)

#: Managed policies (customer or AWS managed, by ARN) attached to a user, group or role.
iam_attachments = Table(
    "iam_attachments",
    metadata,
    Column("entity_kind", String(8), nullable=False),
    Column("entity_id", String(32), nullable=False),
    Column("policy_arn", Text, nullable=False, index=True),
    Column("attached_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("entity_kind", "entity_id", "policy_arn"),
)

#: Inline policies of a user, group or role, as the client sent them.
iam_inline_policies = Table(
    "iam_inline_policies",
    metadata,
    Column("entity_kind", String(8), nullable=False),
    Column("entity_id", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("document", Text, nullable=False),
    PrimaryKeyConstraint("entity_kind", "entity_id", "name"),
)

# --- STS sessions (temporary credentials): revision 0003 ---------------------------------

#: Temporary credentials from STS. ``kind`` is ``assumed-role`` (AssumeRole: the principal
#: is ``arn:aws:sts::<acct>:assumed-role/<role>/<session>``) or ``session-token``
#: (GetSessionToken: the principal is the calling user or root). Only a SHA-256 of the
#: session token is kept: the token is a bearer secret, shown once.
sts_sessions = Table(
    "sts_sessions",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("secret_access_key", String(128), nullable=False),
    Column("token_sha256", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("principal_arn", Text, nullable=False),
    Column("source_arn", Text, nullable=False),
    Column("role_arn", Text),
    Column("role_id", String(32)),
    Column("session_name", String(64)),
    Column("policy", Text),
    Column("policy_arns", JSON),
    Column("tags", JSON),
    Column("source_identity", String(64)),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False, index=True),
)

# --- Audit trail: revision 0004 ----------------------------------------------------------

#: One row per API call, allowed or refused. Listed newest first by ``(time_ms, seq)``;
#: each LookupEvents attribute has an index that ends in that order.
audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("service", String(64)),
    Column("event_source", String(128)),
    Column("event_name", String(128)),
    Column("principal_arn", Text),
    Column("principal_id", String(128)),
    Column("principal_kind", String(16)),
    Column("username", String(128)),
    Column("access_key_id", String(128)),
    Column("source_ip", String(64), nullable=False),
    Column("user_agent", Text),
    Column("region", String(32), nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("error_code", String(128)),
    Column("error_message", Text),
    #: Request parameters, secrets redacted; NULL when refused before they were parsed.
    Column("parameters", JSON),
    Index("ix_audit_events_time_ms_seq", "time_ms", "seq"),
    Index("ix_audit_events_username_time_ms_seq", "username", "time_ms", "seq"),
    Index("ix_audit_events_event_name_time_ms_seq", "event_name", "time_ms", "seq"),
    Index("ix_audit_events_access_key_id_time_ms_seq", "access_key_id", "time_ms", "seq"),
    Index("ix_audit_events_event_source_time_ms_seq", "event_source", "time_ms", "seq"),
    Index("ix_audit_events_read_only_time_ms_seq", "read_only", "time_ms", "seq"),
)

#: The resources an audited call acted on, by CloudTrail type and name (LookupEvents
#: filters on either), in the order the request named them.
audit_resources = Table(
    "audit_resources",
    metadata,
    Column("event_seq", RowId, ForeignKey("audit_events.seq", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("arn", Text, nullable=False),
    Column("resource_type", String(64)),
    Column("resource_name", Text, nullable=False),
    PrimaryKeyConstraint("event_seq", "position"),
    Index("ix_audit_resources_resource_name_event_seq", "resource_name", "event_seq"),
    Index("ix_audit_resources_resource_type_event_seq", "resource_type", "event_seq"),
)

# --- CloudWatch Logs: revision 0005 ------------------------------------------------------

#: Log groups are regional: one name per region. ``tags`` is the group's tag map.
log_groups = Table(
    "log_groups",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("region", String(32), nullable=False),
    Column("name", KeyText, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("retention_days", Integer),
    Column("tags", JSON, nullable=False),
    UniqueConstraint("region", "name"),
)

#: Streams of a group; the event summary columns are kept up to date by each append.
log_streams = Table(
    "log_streams",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("group_id", RowId, ForeignKey("log_groups.id", ondelete="CASCADE"), nullable=False),
    Column("name", KeyText, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("first_event_ms", BigInteger),
    Column("last_event_ms", BigInteger),
    Column("last_ingestion_ms", BigInteger),
    Column("sequence", BigInteger, nullable=False),
    UniqueConstraint("group_id", "name"),
)

#: Log events, read in ``(timestamp_ms, seq)`` order per stream (GetLogEvents) and per
#: group across streams (FilterLogEvents). ``group_id`` is the stream's, kept for the latter.
log_events = Table(
    "log_events",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("stream_id", RowId, ForeignKey("log_streams.id", ondelete="CASCADE"), nullable=False),
    Column("group_id", RowId, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("ingestion_ms", BigInteger, nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_log_events_stream_id_timestamp_ms_seq", "stream_id", "timestamp_ms", "seq"),
    Index("ix_log_events_group_id_timestamp_ms_seq", "group_id", "timestamp_ms", "seq"),
)

# --- SageMaker jobs, tags and local images: revision 0006 ---------------------------------

#: Training and processing jobs. ``id`` orders the capacity queue (first come, first
#: served). ``request`` is the Create*Job request as sent; ``details`` what the job became
#: (status transitions, artifacts, hosts and how far their files were read, timings).
#: ``stop_reason`` is set when a stop was asked for ("user", "max-runtime").
jobs = Table(
    "jobs",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("arn", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("secondary_status", String(32), nullable=False),
    Column("stop_reason", String(16)),
    Column("request", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    UniqueConstraint("kind", "region", "name"),
    Index("ix_jobs_kind_region_created_ms", "kind", "region", "created_ms"),
)

#: A job's metric time series, parsed from its logs with its metric definitions.
job_metrics = Table(
    "job_metrics",
    metadata,
    Column("seq", RowId, primary_key=True, autoincrement=True),
    Column("job_id", RowId, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Index("ix_job_metrics_job_id_name_seq", "job_id", "name", "seq"),
)

#: Tags of SageMaker resources (AddTags, ListTags, DeleteTags), by resource ARN.
sagemaker_tags = Table(
    "sagemaker_tags",
    metadata,
    Column("arn", KeyText, nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", String(256), nullable=False),
    PrimaryKeyConstraint("arn", "key"),
)

#: Registered local images (``shipyard images add``): a directory with ``train``/``serve``.
local_images = Table(
    "local_images",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("path", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# --- Hosting and metrics: revision 0007 ------------------------------------------------

#: Models, endpoint configs and endpoints (``kind``: "model", "endpoint-config",
#: "endpoint"). ``request`` is the Create* request as sent; ``details`` what the resource
#: became (an endpoint's variants, instances, rollout and failure).
hosting = Table(
    "hosting",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("arn", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("request", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    UniqueConstraint("kind", "region", "name"),
    Index("ix_hosting_kind_region_created_ms", "kind", "region", "created_ms"),
)

#: CloudWatch-style metric aggregates, one row per metric, dimension set and minute.
#: ``dimensions`` is canonical JSON: the sorted list of ``[name, value]`` pairs.
metric_data = Table(
    "metric_data",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("region", String(32), nullable=False),
    Column("namespace", String(255), nullable=False),
    Column("metric_name", String(255), nullable=False),
    Column("dimensions", Text, nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("sample_count", Float, nullable=False),
    Column("sum", Float, nullable=False),
    Column("minimum", Float, nullable=False),
    Column("maximum", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    #: Percentile sketch of the samples (JSON; see ``monitoring``), null where none was kept.
    Column("histogram", Text, nullable=True),
    #: The period the row sums up: 60 s, or longer once old data is downsampled (0009).
    Column("period_s", Integer, nullable=False, server_default="60"),
    UniqueConstraint("region", "namespace", "metric_name", "dimensions", "timestamp_ms", name="uq_metric_data_series_minute"),
    Index("ix_metric_data_timestamp_ms", "timestamp_ms"),
)

# --- Hyperparameter tuning jobs: revision 0008 ------------------------------------------

#: Tuning jobs. ``request`` is CreateHyperParameterTuningJob as sent; ``details`` what the
#: tuner made of it (resolved definitions, its trials and their outcomes, the best one).
tuning_jobs = Table(
    "tuning_jobs",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("region", String(32), nullable=False),
    Column("name", String(63), nullable=False),
    Column("arn", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("request", JSON, nullable=False),
    Column("details", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    UniqueConstraint("kind", "region", "name"),
    Index("ix_tuning_jobs_kind_region_created_ms", "kind", "region", "created_ms"),
)


# --- Monitoring: revision 0009 ----------------------------------------------------------


def _record_table(name: str) -> Table:
    """A table of :class:`~shipyard.store.record_table.RecordTable` records with a request
    as sent and what the server made of it."""
    return Table(
        name,
        metadata,
        Column("id", RowId, primary_key=True, autoincrement=True),
        Column("kind", String(40), nullable=False),
        Column("region", String(32), nullable=False),
        Column("name", String(255), nullable=False),
        Column("arn", Text, nullable=False),
        Column("status", String(32), nullable=False),
        Column("request", JSON, nullable=False),
        Column("details", JSON, nullable=False),
        Column("created_ms", BigInteger, nullable=False),
        Column("modified_ms", BigInteger, nullable=False),
        UniqueConstraint("kind", "region", "name"),
        Index(f"ix_{name}_kind_region_created_ms", "kind", "region", "created_ms"),
    )


#: CloudWatch alarms: ``status`` is the state value (OK, ALARM, INSUFFICIENT_DATA).
alarms = _record_table("alarms")

#: DescribeAlarmHistory's items; ``data`` is the HistoryData JSON text.
alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("region", String(32), nullable=False),
    Column("alarm_name", String(255), nullable=False),
    Column("alarm_type", String(32), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("item_type", String(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_alarm_history_region_alarm_name_timestamp_ms", "region", "alarm_name", "timestamp_ms"),
)

#: Model Monitor: data and model quality job definitions and monitoring schedules.
monitoring = _record_table("monitoring")

#: One row per scheduled (or run-now) execution of a monitoring schedule.
monitoring_executions = Table(
    "monitoring_executions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("region", String(32), nullable=False),
    Column("schedule_name", String(63), nullable=False),
    Column("scheduled_ms", BigInteger, nullable=False),
    Column("status", String(32), nullable=False),
    Column("processing_job_name", String(63), nullable=True),
    Column("details", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
    UniqueConstraint("region", "schedule_name", "scheduled_ms"),
    Index("ix_monitoring_executions_status", "status"),
)

#: CloudWatch dashboards (global: no region); ``body`` is the DashboardBody JSON text,
#: ``tags`` a ``{key: value}`` object.
dashboards = Table(
    "dashboards",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("body", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("modified_ms", BigInteger, nullable=False),
)
