"""The local stack's Kafka: one KRaft node acting as broker and controller, storage formatted once."""

from __future__ import annotations

import base64
import subprocess
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from app.stack import binaries
from app.stack.errors import StackError
from app.stack.process import accepts_connections
from app.stack.service import HOST, Service


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


def _kafka_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (what random-uuid prints).

    Like Kafka's ``Uuid.randomUuid``, never one that starts with "-": the storage tool's argument
    parser reads ``-t -xyz`` as a missing value (1 stack start in 64 failed that way)."""
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
