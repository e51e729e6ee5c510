"""The endpoints' reconciler: starts a worker per endpoint instance, health-checks it,
publishes routes for the data plane, rolls updates out, and brings endpoints back after a
server restart.

State lives in the database (:class:`~shipyard.serving.store.HostingStore`): the API
records what is wanted (a new endpoint, an update, new weights, a deletion) and wakes the
fleet; each tick reads every endpoint and moves the world towards it. An instance is
started first and recorded second, as jobs' hosts are: a crash between the two leaves a
worker that :meth:`EndpointFleet.recover` finds by its working directory and ends.

An update is blue/green: the new config's instances start beside the old ones, traffic
switches to them in one step once all are healthy, and the old ones are stopped a moment
later (they finish the requests they hold). If a new instance fails, the new ones are
stopped and the endpoint goes on serving the old config.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from shipyard.compute.capacity import CapacityScheduler
from shipyard.compute.executor import Executor, HostHandle
from shipyard.compute.network import free_port
from shipyard.compute.roles import JobRoles
from shipyard.compute.ticker import Ticker
from shipyard.errors import AwsError
from shipyard.jobs.spec import RUNNER_LOG, Resources
from shipyard.logs import LogStore
from shipyard.monitoring.usage import ENDPOINTS_NAMESPACE, UsagePublisher
from shipyard.serving import records as status
from shipyard.serving.failures import read_failure
from shipyard.serving.models import ImagePath, inference_mode, model_containers
from shipyard.serving.records import HostingRecord
from shipyard.serving.routes import EndpointRoute, InstanceRoute, VariantRoute
from shipyard.serving.spec import OUTPUT_LOG, WorkerSpec
from shipyard.serving.store import HostingStore
from shipyard.store.records import now_ms

log = logging.getLogger("shipyard.endpoints")

LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"

#: Seconds a worker has to answer /ping after it started, unless the variant says otherwise
#: (``ContainerStartupHealthCheckTimeoutInSeconds``).
DEFAULT_STARTUP_TIMEOUT = 600
#: Seconds the old instances keep serving after an update switched traffic away from them.
DRAIN_SECONDS = 2.0
#: Seconds a stopped worker has to finish its requests before it is killed.
STOP_GRACE_SECONDS = 5.0
#: Lifetime of the credentials a worker gets for its model's role.
CREDENTIAL_SECONDS = 12 * 3600

_PING_TIMEOUT = 0.5
_FAILURE_LIMIT = 1024

Variants = dict[str, dict[str, Any]]


class EndpointFailure(Exception):
    """An instance could not be started or did not become healthy: why, as FailureReason."""


class EndpointFleet:
    """Drives every endpoint; one per server, run as a background task."""

    def __init__(
        self,
        *,
        store: HostingStore,
        executor: Executor,
        scheduler: CapacityScheduler,
        roles: JobRoles,
        logs: LogStore,
        usage: UsagePublisher,
        image_path: ImagePath,
        instances_dir: Path,
        endpoint_url: str,
        ca_bundle: str = "",
        on_release: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._executor = executor
        self._scheduler = scheduler
        self._roles = roles
        self._logs = logs
        self._usage = usage
        self._image_path = image_path
        self._instances_dir = instances_dir
        self._endpoint_url = endpoint_url
        self._ca_bundle = ca_bundle
        self._on_release = on_release
        self._routes: dict[tuple[str, str], EndpointRoute] = {}
        #: Old instances an update switched away from, stopped once their drain time is up.
        self._draining: list[tuple[float, str, dict[str, Any]]] = []
        self._busy = False
        self._ticker = Ticker(self._tick, lambda: self._busy, "shipyard-endpoints")

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what the database says runs, then reconcile in the background."""
        await self.recover()
        self._ticker.start()

    async def close(self) -> None:
        """Stop reconciling. The workers go on serving (the next start re-attaches to them);
        only old instances an update was draining are stopped, as no record names them."""
        await self._ticker.stop()
        self._routes.clear()
        await self._stop_instances([instance for _, _, instance in self._draining])
        self._draining.clear()

    async def recover(self) -> None:
        """After a (re)start: re-attach to live workers and forget dead ones (the next tick
        starts replacements); end workers the database does not know."""
        for record in await self._store.all("endpoint"):
            known = {Path(instance["dir"]) for _, _, instance in _instances(record)}
            endpoint_dir = self._endpoint_dir(record)
            if endpoint_dir.is_dir():
                for instance_dir in endpoint_dir.iterdir():
                    if instance_dir not in known:
                        await self._executor.abandon(instance_dir)
                        await asyncio.to_thread(shutil.rmtree, instance_dir, True)
            # Live workers serve on at once (a restart costs no request); healthy means
            # answering /ping now.
            alive: dict[str, bool] = {}
            healthy: dict[str, bool] = {}
            for _, variant, instance in _instances(record):
                alive[instance["id"]] = self._executor.attach(HostHandle(**instance["handle"]))
                if alive[instance["id"]]:
                    self._watch(record, variant, instance)
                    self._scheduler.restore(_capacity_key(record, instance), [Resources(**instance["resources"])])
                    healthy[instance["id"]] = await _ping(instance["port"])

            def settle(stored: HostingRecord, alive: dict[str, bool] = alive, healthy: dict[str, bool] = healthy) -> list[str]:
                dead = []
                for group, variant, instance in list(_instances(stored)):
                    if alive.get(instance["id"]):
                        instance["healthy"] = healthy[instance["id"]]
                    else:
                        del stored.details[group][variant]["instances"][instance["id"]]
                        dead.append(instance["dir"])
                return dead

            record, dead = await self._store.mutate(record.id, settle)
            for instance_dir in dead:
                await asyncio.to_thread(shutil.rmtree, instance_dir, True)
            if not record.details.get("deleting"):
                self._publish(record)
            log.info("recovered endpoint %s (%d live instances)", record.name, sum(alive.values()))

    def wake(self) -> None:
        """Reconcile now (the API changed something)."""
        self._ticker.wake()

    def route(self, region: str, name: str) -> EndpointRoute | None:
        """Where ``name``'s traffic can go now; None if the endpoint is not serving."""
        return self._routes.get((region, name))

    # --- reconciling -----------------------------------------------------------------------

    async def _tick(self) -> None:
        busy = bool(self._draining)
        await self._stop_drained()
        for record in await self._store.all("endpoint"):
            try:
                record = await self._reconcile(record)
            except Exception:
                log.exception("reconciling endpoint %s failed", record.name)
                continue
            if record is not None:
                busy = busy or record.status not in (status.IN_SERVICE, status.FAILED)
                busy = busy or any(not instance["healthy"] for _, _, instance in _instances(record))
        self._busy = busy

    async def _reconcile(self, record: HostingRecord) -> HostingRecord | None:
        """Move one endpoint a step towards what its record wants; the record after it
        (None once deleted)."""
        if record.details.get("deleting"):
            await self._delete(record)
            return None
        if record.status == status.FAILED:
            self._routes.pop((record.region, record.name), None)
            return record
        await self._ship_logs(record)
        try:
            record = await self._converge(record, "variants")
        except EndpointFailure as failure:
            if record.status == status.CREATING:
                return await self._fail(record, str(failure))
            if record.status == status.UPDATING and not record.details.get("pending_variants"):
                record = await self._keep_capacity(record, str(failure))
            else:
                record = await self._replace_failed(record, str(failure))
        if record.details.get("pending_variants"):
            try:
                record = await self._converge(record, "pending_variants")
            except EndpointFailure as failure:
                return await self._roll_back(record, str(failure))
            if _all_healthy(record.details["pending_variants"]):
                record = await self._switch(record)
        elif record.status in (status.CREATING, status.UPDATING) and _all_healthy(record.details["variants"]):
            record = await self._settle(record)
        self._publish(record)
        return record

    # --- instances -----------------------------------------------------------------------------

    async def _converge(self, record: HostingRecord, group: str) -> HostingRecord:
        """Health-check ``group``'s instances, then start or stop instances until each
        variant has its desired count. Raises :class:`EndpointFailure` when one fails."""
        for variant_name, variant in list(record.details[group].items()):
            for instance in list(variant["instances"].values()):
                await self._check(record, group, variant_name, instance)
            running = len(variant["instances"])
            desired = int(variant["desired_count"])
            for _ in range(desired - running):
                record = await self._launch(record, group, variant_name)
            if running > desired:
                record = await self._scale_down(record, group, variant_name, running - desired)
        return record

    async def _check(self, record: HostingRecord, group: str, variant: str, instance: dict[str, Any]) -> None:
        handle = HostHandle(**instance["handle"])
        state = await self._executor.poll(handle)
        if not state.running:
            await self._executor.release(handle)
            self._release(record, instance)
            await self._forget(record, group, variant, instance["id"])
            reason = _worker_failure(Path(instance["dir"])) or state.lost_reason
            if state.out_of_memory:
                reason = f"the instance ran out of memory ({instance['resources']['memory_mib']} MiB)"
            raise EndpointFailure(f"The model server of variant {variant} (instance {instance['id']}) stopped: {reason}")
        if instance["healthy"]:
            return
        if await _ping(instance["port"]):
            await self._mark(record, group, variant, instance["id"], healthy=True)
            await self._logs.append(
                record.details["log_group"],
                instance["stream"],
                [(now_ms(), f"Instance {instance['id']} passed its health check (GET /ping)")],
                region=record.region,
            )
            return
        timeout = record.details[group][variant].get("startup_timeout") or DEFAULT_STARTUP_TIMEOUT
        if now_ms() - instance["started_ms"] > timeout * 1000:
            await self._executor.kill(handle)
            await self._executor.release(handle)
            self._release(record, instance)
            await self._forget(record, group, variant, instance["id"])
            raise EndpointFailure(
                f"The model server of variant {variant} (instance {instance['id']}) did not pass its health "
                f"check (GET /ping) within {timeout} seconds"
            )

    async def _launch(self, record: HostingRecord, group: str, variant_name: str) -> HostingRecord:
        """Start one more instance of a variant and record it."""
        variant = record.details[group][variant_name]
        instance_id = "i-" + secrets.token_hex(8)
        key = f"endpoint:{record.id}:{instance_id}"
        try:
            resources = self._scheduler.take(key, variant["instance_type"])
        except AwsError as error:
            raise EndpointFailure(f"{error.code}: {error.message}") from None
        try:
            model = variant["model_request"]
            containers = await model_containers(_as_model(model), self._image_path)
            role = model.get("ExecutionRoleArn")
            credentials = await self._roles.assume(role, "SageMaker", CREDENTIAL_SECONDS) if role else {}
            instance_dir = self._endpoint_dir(record) / instance_id
            spec = WorkerSpec(
                endpoint_name=record.name,
                variant_name=variant_name,
                instance_id=instance_id,
                region=record.region,
                containers=containers,
                mode=inference_mode(model),
                port=free_port(),
                resources=resources,
                endpoint_url=self._endpoint_url,
                credentials=credentials,
                ca_bundle=self._ca_bundle,
                venv_cache=str(self._instances_dir / "venvs"),
            )
            handle = await self._executor.start(spec, instance_dir)
        except AwsError as error:  # the model's role or image changed since CreateModel
            self._scheduler.release(key)
            raise EndpointFailure(f"ClientError: {error.message}") from None
        except Exception as error:
            self._scheduler.release(key)
            log.exception("starting an instance of endpoint %s failed", record.name)
            raise EndpointFailure(f"InternalServerError: could not start the model server: {error}") from None
        instance = {
            "id": instance_id,
            "dir": str(instance_dir),
            "handle": asdict(handle),
            "port": spec.port,
            "resources": asdict(resources),
            "stream": f"{variant_name}/{instance_id}",
            "output": 0,
            "healthy": False,
            "started_ms": now_ms(),
        }

        def add(stored: HostingRecord) -> None:
            stored.details[group][variant_name]["instances"][instance_id] = instance

        record, _ = await self._store.mutate(record.id, add)
        self._watch(record, variant_name, instance)
        log.info("started instance %s of endpoint %s (variant %s)", instance_id, record.name, variant_name)
        return record

    async def _scale_down(self, record: HostingRecord, group: str, variant_name: str, count: int) -> HostingRecord:
        instances = list(record.details[group][variant_name]["instances"].values())
        # Instances not yet healthy go first: they serve nothing yet.
        chosen = sorted(instances, key=lambda instance: (instance["healthy"], instance["started_ms"]))[:count]
        for instance in chosen:
            await self._forget(record, group, variant_name, instance["id"])
        record = await self._reload(record)
        self._publish(record)
        self._drain(record, chosen)
        return record

    async def _forget(self, record: HostingRecord, group: str, variant: str, instance_id: str) -> None:
        def drop(stored: HostingRecord) -> None:
            stored.details[group][variant]["instances"].pop(instance_id, None)

        await self._store.mutate(record.id, drop)

    async def _mark(self, record: HostingRecord, group: str, variant: str, instance_id: str, *, healthy: bool) -> None:
        def mark(stored: HostingRecord) -> None:
            instance = stored.details[group][variant]["instances"].get(instance_id)
            if instance is not None:
                instance["healthy"] = healthy

        stored, _ = await self._store.mutate(record.id, mark)
        record.details = stored.details

    def _watch(self, record: HostingRecord, variant: str, instance: dict[str, Any]) -> None:
        """Sample the instance's CPU, memory and disk while its worker runs."""
        self._usage.watch(
            HostHandle(**instance["handle"]),
            region=record.region,
            namespace=ENDPOINTS_NAMESPACE,
            dimensions=(("EndpointName", record.name), ("VariantName", variant)),
            memory_mib=instance["resources"]["memory_mib"],
            gpu_ids=instance["resources"].get("gpu_ids", ()),
        )

    def _release(self, record: HostingRecord, instance: dict[str, Any]) -> None:
        self._scheduler.release(_capacity_key(record, instance))
        self._on_release()

    def _drain(self, record: HostingRecord, instances: list[dict[str, Any]]) -> None:
        """Stop ``instances`` once they have had time to finish what they serve."""
        deadline = time.monotonic() + DRAIN_SECONDS
        self._draining += [(deadline, _capacity_key(record, instance), instance) for instance in instances]

    async def _stop_drained(self) -> None:
        now = time.monotonic()
        due = [item for item in self._draining if item[0] <= now]
        self._draining = [item for item in self._draining if item[0] > now]
        if due:
            await self._stop_instances([instance for _, _, instance in due])
            for _, key, _ in due:
                self._scheduler.release(key)
            self._on_release()

    async def _stop_instances(self, instances: list[dict[str, Any]]) -> None:
        """SIGTERM, a grace period to finish in-flight requests, then SIGKILL."""
        handles = [HostHandle(**instance["handle"]) for instance in instances]
        for handle in handles:
            await self._executor.stop(handle)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            states = [await self._executor.poll(handle) for handle in handles]
            if not any(state.running for state in states):
                break
            await asyncio.sleep(0.05)
        for handle in handles:
            await self._executor.kill(handle)
            await self._executor.release(handle)

    # --- endpoint transitions ------------------------------------------------------------------

    async def _settle(self, record: HostingRecord) -> HostingRecord:
        """Every variant has its desired instances, healthy: the endpoint is InService."""

        def settle(stored: HostingRecord) -> None:
            for variant in stored.details["variants"].values():
                variant["current_weight"] = variant["desired_weight"]
                variant["current_count"] = len(variant["instances"])
            stored.status = status.IN_SERVICE

        record, _ = await self._store.mutate(record.id, settle)
        log.info("endpoint %s is InService", record.name)
        return record

    async def _switch(self, record: HostingRecord) -> HostingRecord:
        """An update's instances are all healthy: send traffic to them, drain the old ones."""
        old = [instance for _, _, instance in _instances(record, ("variants",))]

        def switch(stored: HostingRecord) -> None:
            details = stored.details
            details["previous_config"] = details.get("config")
            details["config"] = details.pop("pending_config")
            details["variants"] = details.pop("pending_variants")
            details["data_capture"] = details.pop("pending_data_capture", None)
            details.pop("pending_since_ms", None)
            for variant in details["variants"].values():
                variant["current_weight"] = variant["desired_weight"]
                variant["current_count"] = len(variant["instances"])
            stored.status = status.IN_SERVICE

        record, _ = await self._store.mutate(record.id, switch)
        self._publish(record)
        self._drain(record, old)
        log.info("endpoint %s switched to endpoint config %s", record.name, record.details["config"])
        return record

    async def _roll_back(self, record: HostingRecord, reason: str) -> HostingRecord:
        """An update's instance failed: stop the update's instances, keep serving the old config."""
        pending = [instance for _, _, instance in _instances(record, ("pending_variants",))]

        def rolling_back(stored: HostingRecord) -> None:
            stored.status = status.ROLLING_BACK

        record, _ = await self._store.mutate(record.id, rolling_back)
        await self._stop_instances(pending)
        for instance in pending:
            self._release(record, instance)

        def rolled_back(stored: HostingRecord) -> None:
            details = stored.details
            for key in ("pending_config", "pending_variants", "pending_data_capture", "pending_since_ms"):
                details.pop(key, None)
            details["failure_reason"] = f"Update to endpoint config failed and was rolled back: {reason}"[
                :_FAILURE_LIMIT
            ]
            stored.status = status.IN_SERVICE

        record, _ = await self._store.mutate(record.id, rolled_back)
        log.info("endpoint %s rolled back an update: %s", record.name, reason)
        self._publish(record)
        return record

    async def _keep_capacity(self, record: HostingRecord, reason: str) -> HostingRecord:
        """A capacity update could not be carried out: keep the instance counts there are."""

        def keep(stored: HostingRecord) -> None:
            for variant in stored.details["variants"].values():
                variant["desired_count"] = max(1, len(variant["instances"]))
            stored.details["failure_reason"] = f"Update of the instance count failed: {reason}"[:_FAILURE_LIMIT]

        record, _ = await self._store.mutate(record.id, keep)
        return record

    async def _replace_failed(self, record: HostingRecord, reason: str) -> HostingRecord:
        """A serving instance stopped: the next tick starts a replacement (as SageMaker
        replaces an unhealthy instance); its log says why."""
        log.warning("endpoint %s: %s; starting a replacement", record.name, reason)
        await self._logs.append(
            record.details["log_group"], "fleet", [(now_ms(), f"{reason}; starting a replacement")], region=record.region
        )
        return await self._reload(record)

    async def _fail(self, record: HostingRecord, reason: str) -> HostingRecord:
        instances = [instance for _, _, instance in _instances(record)]
        await self._stop_instances(instances)
        for instance in instances:
            self._release(record, instance)

        def fail(stored: HostingRecord) -> None:
            for variant in stored.details["variants"].values():
                variant["instances"] = {}
                variant["current_count"] = 0
            stored.details["failure_reason"] = reason[:_FAILURE_LIMIT]
            stored.status = status.FAILED

        record, _ = await self._store.mutate(record.id, fail)
        self._routes.pop((record.region, record.name), None)
        log.info("endpoint %s failed: %s", record.name, reason)
        return record

    async def _delete(self, record: HostingRecord) -> None:
        self._routes.pop((record.region, record.name), None)
        instances = [instance for _, _, instance in _instances(record)]
        await self._stop_instances(instances)
        for instance in instances:
            self._release(record, instance)
        await self._store.delete(record.id)
        await asyncio.to_thread(shutil.rmtree, self._endpoint_dir(record), True)
        log.info("endpoint %s deleted", record.name)

    # --- routes and logs -------------------------------------------------------------------------

    def _publish(self, record: HostingRecord) -> None:
        key = (record.region, record.name)
        if record.status in (status.CREATING, status.FAILED, status.DELETING):
            self._routes.pop(key, None)
            return
        variants = tuple(
            VariantRoute(
                name=name,
                weight=float(variant["current_weight"]),
                instances=tuple(
                    InstanceRoute(instance["id"], f"http://127.0.0.1:{instance['port']}", instance["stream"])
                    for instance in variant["instances"].values()
                    if instance["healthy"]
                ),
            )
            for name, variant in record.details["variants"].items()
        )
        self._routes[key] = EndpointRoute(
            name=record.name,
            arn=record.arn,
            status=record.status,
            variants=variants,
            data_capture=record.details.get("data_capture"),
            log_group=record.details["log_group"],
            config_name=record.details.get("config", ""),
        )

    async def _ship_logs(self, record: HostingRecord) -> None:
        offsets: dict[tuple[str, str, str], int] = {}
        for group, variant, instance in _instances(record):
            handle = HostHandle(**instance["handle"])
            lines, offset = await self._executor.read_output(handle, instance["output"])
            if lines:
                at = now_ms()
                await self._logs.append(
                    record.details["log_group"], instance["stream"], [(at, line) for line in lines], region=record.region
                )
                offsets[(group, variant, instance["id"])] = offset
        if not offsets:
            return

        def advance(stored: HostingRecord) -> None:
            for (group, variant, instance_id), offset in offsets.items():
                instance = stored.details[group][variant]["instances"].get(instance_id)
                if instance is not None:
                    instance["output"] = offset

        stored, _ = await self._store.mutate(record.id, advance)
        record.details = stored.details

    async def _reload(self, record: HostingRecord) -> HostingRecord:
        return await self._store.get_by_id(record.id) or record

    def _endpoint_dir(self, record: HostingRecord) -> Path:
        return self._instances_dir / str(record.id)


def variant_plan(
    config_request: dict[str, Any], models: dict[str, dict[str, Any]], startup_timeouts: bool = True
) -> Variants:
    """The ``variants`` of an endpoint serving ``config_request``: each variant's model (the
    CreateModel request, kept so the endpoint outlives a deleted model), instance type,
    desired weight and count, and no instances yet. ``models`` maps model names to requests."""
    plan: Variants = {}
    for variant in config_request["ProductionVariants"]:
        serverless = variant.get("ServerlessConfig")
        plan[variant["VariantName"]] = {
            "model": variant["ModelName"],
            "model_request": models[variant["ModelName"]],
            "instance_type": variant.get("InstanceType") or serverless_instance_type(serverless or {}),
            "serverless": serverless,
            "desired_weight": float(variant.get("InitialVariantWeight", 1.0)),
            "current_weight": float(variant.get("InitialVariantWeight", 1.0)),
            "desired_count": int(variant.get("InitialInstanceCount") or 1),
            "current_count": 0,
            "startup_timeout": variant.get("ContainerStartupHealthCheckTimeoutInSeconds") if startup_timeouts else None,
            "instances": {},
            "deployed_at_ms": now_ms(),
        }
    return plan


def serverless_instance_type(serverless: dict[str, Any]) -> str:
    """The instance type a serverless variant runs on: a general-purpose type with at least
    its ``MemorySizeInMB`` (SageMaker sizes serverless compute by memory)."""
    memory = int(serverless.get("MemorySizeInMB") or 2048)
    return "ml.t3.medium" if memory <= 4096 else "ml.m5.large"


def _instances(
    record: HostingRecord, groups: tuple[str, ...] = ("variants", "pending_variants")
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(group, variant, instance)`` for every instance the record holds."""
    for group in groups:
        for variant_name, variant in (record.details.get(group) or {}).items():
            for instance in variant["instances"].values():
                yield group, variant_name, instance


def _all_healthy(variants: Variants) -> bool:
    return all(
        len(variant["instances"]) == int(variant["desired_count"])
        and all(instance["healthy"] for instance in variant["instances"].values())
        for variant in variants.values()
    )


def _capacity_key(record: HostingRecord, instance: dict[str, Any]) -> str:
    return f"endpoint:{record.id}:{instance['id']}"


def _as_model(request: dict[str, Any]) -> HostingRecord:
    return HostingRecord(id=0, kind="model", region="", name=request.get("ModelName", ""), arn="", status="", request=request)


def _worker_failure(instance_dir: Path) -> str:
    """What the worker wrote about why it could not start, else the end of its output."""
    reason = read_failure(instance_dir)
    for name in (OUTPUT_LOG, RUNNER_LOG):
        with contextlib.suppress(OSError):
            reason = reason or (instance_dir / name).read_text(errors="replace").strip()[-_FAILURE_LIMIT:]
    return reason


async def _ping(port: int) -> bool:
    """Whether the worker on ``port`` answers ``GET /ping`` with 200."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), _PING_TIMEOUT)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), _PING_TIMEOUT)
        return line.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


