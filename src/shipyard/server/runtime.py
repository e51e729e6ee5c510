"""Opening and closing the server's shared parts (database, blobs, account) in one place."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from shipyard.audit import AuditLog
from shipyard.compute.capacity import CapacityScheduler, detect_capacity
from shipyard.compute.job_store import ImageStore, JobStore, TagStore
from shipyard.compute.local import LocalExecutor
from shipyard.compute.roles import JobRoles
from shipyard.compute.supervisor import JobSupervisor
from shipyard.config import Settings
from shipyard.iam.authorizer import Authorizer
from shipyard.iam.sessions import SessionStore
from shipyard.iam.store import IamStore
from shipyard.logs import LogStore
from shipyard.monitoring.alarms import ActionRunner, AlarmEvaluator, AlarmStore
from shipyard.monitoring.dashboards import DashboardStore
from shipyard.monitoring.metric_store import MetricStore
from shipyard.monitoring.retention import MetricRetention, tiers
from shipyard.monitoring.schedules.records import ExecutionStore, MonitoringStore
from shipyard.monitoring.schedules.runner import ScheduleRunner
from shipyard.monitoring.usage import UsagePublisher
from shipyard.services.runtime import Runtime
from shipyard.serving.dataplane import DataPlane
from shipyard.serving.fleet import EndpointFleet
from shipyard.serving.launch import WORKER
from shipyard.serving.store import HostingStore
from shipyard.store import AccountStore, BlobStore, Database, S3Store
from shipyard.tuning.records import TuningStore
from shipyard.tuning.tuner import Tuner


@dataclass(frozen=True)
class AccountInfo:
    """What first start creates: the account id and the root access key pair."""

    account_id: str
    root_access_key_id: str
    root_secret_access_key: str


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory readable by its owner only (it holds secrets)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.data_dir, 0o700)


async def bootstrap(settings: Settings) -> AccountInfo:
    """Migrate the database and make the account and its root key if they do not exist."""
    prepare_data_dir(settings)
    database = Database(settings.resolved_database_url)
    try:
        await asyncio.to_thread(database.migrate)
        accounts = AccountStore(database)
        account = await accounts.ensure_account()
        key = await accounts.ensure_root_key()
        return AccountInfo(account.id, key.access_key_id, key.secret_access_key)
    finally:
        await database.close()


async def open_runtime(settings: Settings) -> Runtime:
    """Everything a serving process needs, ready: migrated, swept, account in place."""
    prepare_data_dir(settings)
    database = Database(settings.resolved_database_url, durable=settings.fsync)
    await asyncio.to_thread(database.migrate)
    accounts = AccountStore(database)
    account = await accounts.ensure_account()
    await accounts.ensure_root_key()
    blobs = BlobStore(settings.data_dir / "objects", durable=settings.fsync)
    s3 = S3Store(database, blobs)
    await s3.sweep()
    iam = IamStore(database, accounts, account.id)
    sessions = SessionStore(database)
    await sessions.purge_expired()
    authorizer = Authorizer(account_id=account.id, accounts=accounts, sessions=sessions, iam=iam, s3=s3)
    logs = LogStore(database, region=settings.region)
    jobs = JobStore(database)
    roles = JobRoles(iam, authorizer, sessions)
    capacity = detect_capacity(
        cpus=settings.cpus or None,
        memory_mib=settings.memory or None,
        gpus=None if settings.gpus < 0 else settings.gpus,
    )
    scheduler = CapacityScheduler(capacity)
    ca_bundle = str(Path(settings.tls_ca or settings.tls_cert).resolve()) if settings.tls_cert else ""
    metrics = MetricStore(database)
    usage = UsagePublisher(
        metrics,
        sample_seconds=settings.usage_sample_seconds,
        flush_seconds=settings.metrics_flush_seconds,
    )
    supervisor = JobSupervisor(
        store=jobs,
        executor=LocalExecutor(spare=True),
        scheduler=scheduler,
        roles=roles,
        logs=logs,
        usage=usage,
        jobs_dir=settings.data_dir.resolve() / "jobs",
        endpoint_url=settings.endpoint_url,
        ca_bundle=ca_bundle,
        stop_grace_seconds=settings.job_stop_grace,
    )
    hosting = HostingStore(database)
    images = ImageStore(database)
    fleet = EndpointFleet(
        store=hosting,
        executor=LocalExecutor(runner=WORKER),
        scheduler=scheduler,
        roles=roles,
        logs=logs,
        usage=usage,
        image_path=images.path,
        instances_dir=settings.data_dir.resolve() / "endpoints",
        endpoint_url=settings.endpoint_url,
        ca_bundle=ca_bundle,
        on_release=supervisor.wake,
    )
    dataplane = DataPlane(
        s3=s3,
        metrics=metrics,
        capture_flush_seconds=settings.capture_flush_seconds,
        metrics_flush_seconds=settings.metrics_flush_seconds,
    )
    tuning = TuningStore(database)
    tuner = Tuner(store=tuning, jobs=jobs, supervisor=supervisor, account_id=account.id)
    monitoring = MonitoringStore(database)
    monitoring_executions = ExecutionStore(database)
    monitor = ScheduleRunner(
        store=monitoring,
        executions=monitoring_executions,
        jobs=jobs,
        supervisor=supervisor,
        hosting=hosting,
        s3=s3,
        images=images,
        capacity=capacity,
        account_id=account.id,
        interval_seconds=settings.monitoring_interval_seconds,
    )
    alarm_store = AlarmStore(database)
    alarms = AlarmEvaluator(
        store=alarm_store,
        metrics=metrics,
        actions=ActionRunner(alarm_store, settings.alarm_command),
        account_id=account.id,
        interval_s=settings.alarm_evaluation_seconds,
    )
    return Runtime(
        settings=settings,
        database=database,
        blobs=blobs,
        accounts=accounts,
        s3=s3,
        account_id=account.id,
        audit=AuditLog(database),
        iam=iam,
        sessions=sessions,
        authorizer=authorizer,
        logs=logs,
        jobs=jobs,
        tags=TagStore(database),
        images=images,
        roles=roles,
        capacity=capacity,
        scheduler=scheduler,
        supervisor=supervisor,
        hosting=hosting,
        fleet=fleet,
        usage=usage,
        metrics=metrics,
        alarms=alarms,
        dashboards=DashboardStore(database),
        dataplane=dataplane,
        retention=MetricRetention(
            database,
            tiers(settings.metrics_retention_days, settings.metrics_five_minute_days, settings.metrics_hour_days),
            interval=settings.metrics_retention_interval_seconds,
        ),
        tuning=tuning,
        tuner=tuner,
        monitoring=monitoring,
        monitoring_executions=monitoring_executions,
        monitor=monitor,
    )
