"""``LocalStack``: bring the real services up as local processes, report on them, and stop them by PID."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient

from app.stack.database_services import PostgresService, RedisService
from app.stack.errors import StackError
from app.stack.kafka_service import KafkaService
from app.stack.model_services import MlflowService, ServeService
from app.stack.process import (
    chown_tree,
    free_port,
    is_running,
    port_is_free,
    resident_memory,
    spawn,
    started_at,
    stop,
    wait_until,
)
from app.stack.service import Service, ServiceContext
from app.stack.state import ServiceRecord, StackState
from feature_store.timescale.migrate import apply_migrations, history_backend
from fieldstream.kafka.admin import ensure_topics
from fieldstream.topics import load_topic_specs

log = logging.getLogger("fieldstream.stack")

PORT_NAMES = ("kafka", "kafka-controller", "postgres", "redis", "mlflow", "serve")
SERVICE_ORDER = ("postgres", "redis", "kafka", "mlflow", "serve")


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    pid: int | None
    port: int | None
    running: bool
    healthy: bool
    rss_bytes: int
    detail: str = ""


@dataclass(frozen=True)
class UpReport:
    started: list[str]
    already_running: list[str]
    topics_created: list[str]
    migrations_applied: list[str]
    postgres_backend: str
    seconds: float


class LocalStack:
    """The local stack under one data folder. ``ports`` pins a service's port; others are picked free."""

    def __init__(self, data_dir: Path, ports: dict[str, int] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.requested_ports = {k: v for k, v in (ports or {}).items() if v}

    # ---- building the services -------------------------------------------------------------
    def _choose_ports(self, state: StackState) -> dict[str, int]:
        chosen: dict[str, int] = {}
        for name in PORT_NAMES:
            running = name in state.services and is_running(
                state.services[name].pid, state.services[name].started_at
            )
            previous = state.ports.get(name)
            if name in self.requested_ports:
                chosen[name] = self.requested_ports[name]
            elif previous and (running or port_is_free(previous)):
                chosen[name] = previous  # same port as last time: DSNs people copied stay valid
            else:
                chosen[name] = free_port(taken=chosen.values())
        return chosen

    def _services(self, ports: dict[str, int]) -> dict[str, Service]:
        ctx = ServiceContext(self.data_dir, ports)
        postgres = PostgresService(ctx)
        kafka = KafkaService(ctx)
        mlflow = MlflowService(ctx, postgres.dsn("mlflow"))
        return {
            "postgres": postgres,
            "redis": RedisService(ctx),
            "kafka": kafka,
            "mlflow": mlflow,
            "serve": ServeService(ctx, kafka.bootstrap, mlflow.url),
        }

    # ---- up ----------------------------------------------------------------------------------
    def up(self, timeout_s: float = 120.0, progress: Callable[[str], None] = lambda _msg: None) -> UpReport:
        t0 = time.monotonic()
        state = StackState.load(self.data_dir)
        state.ports = self._choose_ports(state)
        services = self._services(state.ports)
        started: list[str] = []
        already: list[str] = []
        try:
            for name in SERVICE_ORDER:
                service = services[name]
                record = state.services.get(name)
                if record and is_running(record.pid, record.started_at):
                    already.append(name)
                    continue
                if name == "mlflow":  # MLflow stores runs in PostgreSQL: it must be up first
                    self._wait_healthy(services["postgres"], timeout_s)
                    services["postgres"].ensure_databases()  # type: ignore[attr-defined]
                progress(f"starting {name} on port {service.port}")
                service.prepare()
                user = service.user()
                if user:
                    service.log_path.parent.mkdir(parents=True, exist_ok=True)
                    chown_tree(service.log_path.parent, user)
                pid = spawn(service.argv(), service.log_path, env=service.env(), user=service.user())
                state.services[name] = ServiceRecord(
                    pid=pid, started_at=started_at(pid), port=service.port, log=str(service.log_path)
                )
                state.save(self.data_dir)
                started.append(name)
            for service in services.values():
                progress(f"waiting for {service.name}")
                self._wait_healthy(service, timeout_s)
        except BaseException:
            for name in started:
                stop(
                    state.services[name].pid or 0,
                    services[name].stop_signal,
                    started=state.services[name].started_at,
                )
                state.services.pop(name, None)
            state.save(self.data_dir)
            raise
        postgres = services["postgres"]
        assert isinstance(postgres, PostgresService)
        postgres.ensure_databases()
        progress("creating topics")
        admin = AdminClient({"bootstrap.servers": services["kafka"].settings()["kafka_bootstrap"]})
        topics = ensure_topics(admin, load_topic_specs())
        progress("applying migrations")
        migrations = apply_migrations(postgres.dsn())
        state.postgres_backend = history_backend(postgres.dsn())
        for service in services.values():
            state.settings.update(service.settings())
        state.save(self.data_dir)
        return UpReport(started, already, topics, migrations, state.postgres_backend, time.monotonic() - t0)

    def _wait_healthy(self, service: Service, timeout_s: float) -> None:
        state = StackState.load(self.data_dir)
        pid = state.services.get(service.name, ServiceRecord()).pid

        def ready() -> bool:
            if pid and not is_running(pid):
                raise StackError(
                    f"{service.name} exited during start-up; its log says:\n{_tail(service.log_path)}"
                )
            return service.healthy()

        if not wait_until(ready, min(timeout_s, service.start_timeout_s)):
            raise StackError(
                f"{service.name} not healthy after {service.start_timeout_s:.0f} s on port {service.port};"
                f" its log says:\n{_tail(service.log_path)}"
            )

    # ---- down / status -----------------------------------------------------------------------
    def down(self, progress: Callable[[str], None] = lambda _msg: None) -> list[str]:
        """Stop every service ``up`` started (MLflow first, PostgreSQL last); data stays."""
        state = StackState.load(self.data_dir)
        if not state.ports:
            return []
        services = self._services(state.ports)
        stopped = []
        for name in reversed(SERVICE_ORDER):
            record = state.services.get(name)
            if record and record.pid and is_running(record.pid, record.started_at):
                progress(f"stopping {name} (pid {record.pid})")
                stop(record.pid, services[name].stop_signal, started=record.started_at)
                stopped.append(name)
            state.services.pop(name, None)
        state.save(self.data_dir)
        return stopped

    def status(self) -> list[ServiceStatus]:
        state = StackState.load(self.data_dir)
        if not state.ports:
            return [
                ServiceStatus(name, None, None, False, False, 0, "never started") for name in SERVICE_ORDER
            ]
        services = self._services(state.ports)
        return [self._status_of(name, services[name], state) for name in SERVICE_ORDER]

    def _status_of(self, name: str, service: Service, state: StackState) -> ServiceStatus:
        record = state.services.get(name, ServiceRecord())
        running = is_running(record.pid, record.started_at)
        detail = ""
        if name == "postgres":
            detail = state.postgres_backend or ""
        return ServiceStatus(
            name=name,
            pid=record.pid if running else None,
            port=state.ports.get(name),
            running=running,
            healthy=running and service.healthy(),
            rss_bytes=resident_memory(record.pid) if running and record.pid else 0,
            detail=detail,
        )

    def env_exports(self) -> Iterator[str]:
        """``export`` lines for the shell (``eval "$(fieldstream stack env)"``)."""
        state = StackState.load(self.data_dir)
        names = {
            "kafka_bootstrap": "FIELDSTREAM_KAFKA_BOOTSTRAP",
            "postgres_dsn": "FIELDSTREAM_POSTGRES_DSN",
            "redis_url": "FIELDSTREAM_REDIS_URL",
            "mlflow_tracking_uri": "MLFLOW_TRACKING_URI",
        }
        yield f"export FIELDSTREAM_DATA_DIR='{self.data_dir}'"
        for key, var in names.items():
            if key in state.settings:
                yield f"export {var}='{state.settings[key]}'"


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
