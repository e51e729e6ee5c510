"""The server's shared, long-lived parts, handed to every handler through its context."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.audit import AuditLog
from shipyard.compute.capacity import CapacityScheduler, MachineCapacity
from shipyard.compute.job_store import ImageStore, JobStore, TagStore
from shipyard.compute.roles import JobRoles
from shipyard.compute.supervisor import JobSupervisor
from shipyard.config import Settings
from shipyard.iam.authorizer import Authorizer
from shipyard.iam.sessions import SessionStore
from shipyard.iam.store import IamStore
from shipyard.logs import LogStore
from shipyard.monitoring.alarms import AlarmEvaluator
from shipyard.monitoring.dashboards import DashboardStore
from shipyard.monitoring.metric_store import MetricStore
from shipyard.monitoring.retention import MetricRetention
from shipyard.monitoring.schedules.records import ExecutionStore, MonitoringStore
from shipyard.monitoring.schedules.runner import ScheduleRunner
from shipyard.monitoring.usage import UsagePublisher
from shipyard.serving.dataplane import DataPlane
from shipyard.serving.fleet import EndpointFleet
from shipyard.serving.store import HostingStore
from shipyard.store.accounts import AccountStore
from shipyard.store.blobs import BlobStore
from shipyard.store.database import Database
from shipyard.store.objects import S3Store
from shipyard.tuning.records import TuningStore
from shipyard.tuning.tuner import Tuner


@dataclass
class Runtime:
    """Built once at server start (see ``shipyard.server.app``), closed at shutdown."""

    settings: Settings
    database: Database
    blobs: BlobStore
    accounts: AccountStore
    s3: S3Store
    account_id: str
    audit: AuditLog
    iam: IamStore
    sessions: SessionStore
    authorizer: Authorizer
    logs: LogStore
    jobs: JobStore
    tags: TagStore
    images: ImageStore
    roles: JobRoles
    capacity: MachineCapacity
    scheduler: CapacityScheduler
    supervisor: JobSupervisor
    hosting: HostingStore
    fleet: EndpointFleet
    usage: UsagePublisher
    metrics: MetricStore
    alarms: AlarmEvaluator
    dashboards: DashboardStore
    dataplane: DataPlane
    retention: MetricRetention
    tuning: TuningStore
    tuner: Tuner
    monitoring: MonitoringStore
    monitoring_executions: ExecutionStore
    monitor: ScheduleRunner

    async def close(self) -> None:
        """Write what the data plane buffers (captured data, metrics); stop the reconcilers
        that start jobs (tuning, monitoring schedules) before the supervisor, then alarms,
        endpoints and jobs (their processes run on); write the last usage samples; then
        release the database's threads and connections."""
        await self.dataplane.close()
        await self.tuner.close()
        await self.monitor.close()
        await self.alarms.close()
        await self.fleet.close()
        await self.supervisor.close()
        await self.usage.close()
        await self.retention.close()
        await self.database.close()
