"""The services of the local stack: how each is prepared, started, checked and stopped.

Each service owns a folder under the stack's data folder and one TCP port on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import sys
import urllib.request
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import redis
from confluent_kafka.admin import AdminClient

from fieldstream.stack import binaries
from fieldstream.stack.errors import StackError
from fieldstream.stack.process import accepts_connections, as_user, chown_tree, grant_traverse, service_user

HOST = "127.0.0.1"
DB_USER = "fieldstream"
DB_NAME = "fieldstream"
MLFLOW_DB = "mlflow"


@dataclass(frozen=True)
class ServiceContext:
    data_dir: Path
    ports: dict[str, int]

    def port(self, name: str) -> int:
        return self.ports[name]


class Service(ABC):
    """One local server process. Subclasses say how to prepare its folder, start it and check it."""

    name: str
    stop_signal: int = signal.SIGTERM
    start_timeout_s: float = 60.0
    #: extra ports besides the main one (e.g. Kafka's controller listener)
    extra_ports: tuple[str, ...] = ()

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @property
    def home(self) -> Path:
        return self.ctx.data_dir / self.name

    @property
    def port(self) -> int:
        return self.ctx.port(self.name)

    @property
    def log_path(self) -> Path:
        return self.ctx.data_dir / "logs" / f"{self.name}.log"

    def prepare(self) -> None:
        """One-time initialisation of the service's folder (idempotent)."""
        self.home.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def argv(self) -> list[str]: ...

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def user(self) -> str | None:
        return None

    @abstractmethod
    def healthy(self) -> bool:
        """One quick health probe; never raises."""

    def settings(self) -> dict[str, str]:
        """The connection settings this service contributes to the stack file."""
        return {}


class KafkaService(Service):
    """Apache Kafka, one KRaft node acting as broker and controller; storage formatted once."""

    name = "kafka"
    extra_ports = ("kafka-controller",)
    heap = "-Xmx512m"

    @property
    def config_path(self) -> Path:
        return self.home / "server.properties"

    def prepare(self) -> None:
        super().prepare()
        logs = self.home / "data"
        controller = self.ctx.port("kafka-controller")
        self.config_path.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@{HOST}:{controller}",
                    f"listeners=PLAINTEXT://{HOST}:{self.port},CONTROLLER://{HOST}:{controller}",
                    f"advertised.listeners=PLAINTEXT://{HOST}:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={logs}",
                    "num.partitions=4",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=8",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=8",
                    "group.initial.rebalance.delay.ms=0",
                    "message.max.bytes=10485760",
                    "replica.fetch.max.bytes=10485760",
                    "auto.create.topics.enable=false",
                    "num.network.threads=2",
                    "num.io.threads=4",
                    "log.cleaner.dedupe.buffer.size=8388608",
                    "",
                ]
            )
        )
        (self.home / "log4j2.yaml").write_text(_KAFKA_LOG4J)
        if not (logs / "meta.properties").exists():
            cluster_id = _kafka_cluster_id()
            self._run_tool(
                ["kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config_path)]
            )

    def _java(self, main: list[str]) -> list[str]:
        return [
            binaries.java(),
            self.heap,
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            # C1 only: on a 2-core machine the C2 compiler threads of a freshly started broker took
            # 0.1-0.17 of a core for minutes, more than serving the requests did (0.05-0.1); a local
            # broker's load is far below what C1-compiled code handles
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.yaml'}",
            "-cp",
            binaries.kafka_classpath(),
            *main,
        ]

    def _run_tool(self, main: list[str]) -> None:
        import subprocess

        result = subprocess.run(self._java(main), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise StackError(f"kafka storage format failed: {result.stderr.strip()[-2000:]}")

    def argv(self) -> list[str]:
        return self._java(["kafka.Kafka", str(self.config_path)])

    def healthy(self) -> bool:
        if not accepts_connections(self.port):  # before a client exists: librdkafka logs every refusal
            return False
        try:
            admin = AdminClient(
                {"bootstrap.servers": self.bootstrap, "socket.timeout.ms": 2000, "log_level": 0}
            )
            return bool(admin.list_topics(timeout=2).brokers)
        except Exception:
            return False

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def settings(self) -> dict[str, str]:
        return {"kafka_bootstrap": self.bootstrap}


class PostgresService(Service):
    """A private PostgreSQL cluster (initdb), TimescaleDB preloaded when the extension is installed."""

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: roll back open transactions, no waiting for clients

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.bindir = binaries.postgres_bindir()
        self.timescaledb = binaries.timescaledb_available(self.bindir)

    @property
    def pgdata(self) -> Path:
        return self.home / "data"

    def user(self) -> str | None:
        return service_user("postgres")

    def prepare(self) -> None:
        super().prepare()
        if (self.pgdata / "PG_VERSION").exists():
            return
        import subprocess

        self.pgdata.mkdir(parents=True, exist_ok=True)
        user = self.user()
        if user:
            chown_tree(self.home, user)
            grant_traverse(self.home.parent)
        result = subprocess.run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                DB_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            **as_user(user),  # type: ignore[call-overload]
        )
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip()[-2000:]}")

    def argv(self) -> list[str]:
        args = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            "unix_socket_directories=",
            "-c",
            "shared_buffers=128MB",
            "-c",
            "max_connections=100",
            "-c",
            "fsync=on",
        ]
        if self.timescaledb:
            args += ["-c", "shared_preload_libraries=timescaledb", "-c", "timescaledb.telemetry_level=off"]
        return args

    def dsn(self, database: str = DB_NAME) -> str:
        return f"postgresql://{DB_USER}@{HOST}:{self.port}/{database}"

    def healthy(self) -> bool:
        try:
            with psycopg2.connect(self.dsn("postgres"), connect_timeout=2) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
                return cur.fetchone() == (1,)
        except Exception:
            return False

    def ensure_databases(self) -> None:
        conn = psycopg2.connect(self.dsn("postgres"), connect_timeout=5)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for db in (DB_NAME, MLFLOW_DB):
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
                    if cur.fetchone() is None:
                        cur.execute(f'CREATE DATABASE "{db}"')
        finally:
            conn.close()
        if self.timescaledb:
            with psycopg2.connect(self.dsn(), connect_timeout=5) as conn, conn.cursor() as cur:
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")

    def settings(self) -> dict[str, str]:
        return {"postgres_dsn": self.dsn()}


class RedisService(Service):
    """Redis with an append-only file in its folder, so a restart keeps the online store."""

    name = "redis"

    def argv(self) -> list[str]:
        return [
            binaries.redis_server(),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--dir",
            str(self.home),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--maxmemory",
            "512mb",
            "--maxmemory-policy",
            "volatile-lru",
        ]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def healthy(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=2).ping())
        except Exception:
            return False

    def settings(self) -> dict[str, str]:
        return {"redis_url": self.url}


class MlflowService(Service):
    """MLflow tracking server: runs and registry in PostgreSQL, artifacts in the data folder."""

    name = "mlflow"
    start_timeout_s = 120.0

    def __init__(self, ctx: ServiceContext, backend_dsn: str) -> None:
        super().__init__(ctx)
        self.backend_dsn = backend_dsn.replace("postgresql://", "postgresql+psycopg2://", 1)

    def argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            self.backend_dsn,
            "--artifacts-destination",
            str((self.home / "artifacts").resolve()),
            "--serve-artifacts",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
        ]

    def env(self) -> dict[str, str]:
        # The job runner and its huey workers cost ~1 GB RSS and nothing here uses them.
        return {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                return resp.status == 200
        except Exception:
            return False

    def settings(self) -> dict[str, str]:
        return {"mlflow_tracking_uri": self.url}


class ServeService(Service):
    """The KServe model server (``fieldstream serve``): the champions over Open Inference Protocol v2.

    Models not promoted yet are served (ready) once a promotion arrives; health is liveness.
    """

    name = "serve"
    start_timeout_s = 120.0  # kserve, onnxruntime and mlflow take a while to import on a busy machine

    def __init__(self, ctx: ServiceContext, kafka_bootstrap: str, mlflow_uri: str) -> None:
        super().__init__(ctx)
        self.kafka_bootstrap = kafka_bootstrap
        self.mlflow_uri = mlflow_uri

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "fieldstream", "serve", "--http-port", str(self.port), "--host", HOST]

    def env(self) -> dict[str, str]:
        # This stack's services, whatever the caller's shell points at (the stack file is written last).
        return {
            **os.environ,
            "FIELDSTREAM_DATA_DIR": str(self.ctx.data_dir),
            "FIELDSTREAM_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "MLFLOW_TRACKING_URI": self.mlflow_uri,
        }

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v2/health/live", timeout=2) as resp:
                return resp.status == 200
        except Exception:
            return False


def _kafka_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what random-uuid prints).

    Like Kafka's ``Uuid.randomUuid``, never one that starts with "-": the storage tool's argument
    parser reads ``-t -xyz`` as a missing value (1 stack start in 64 failed that way)."""
    import base64

    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


_KAFKA_LOG4J = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.log
        level: WARN
      - name: org.apache.kafka.storage
        level: WARN
"""
