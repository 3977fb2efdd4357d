"""The local stack's model services: the MLflow tracking server and registry, and the KServe model
server (``fieldstream serve``) with the champions."""

from __future__ import annotations

import os
import sys

from app.stack.service import HOST, Service, ServiceContext, answers_ok


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
        return answers_ok(f"{self.url}/health")

    def settings(self) -> dict[str, str]:
        return {"mlflow_tracking_uri": self.url}


class ServeService(Service):
    """The KServe model server (``fieldstream serve``): the champions over Open Inference Protocol v2.

    Models not promoted yet are served (ready) once a promotion arrives; health is KServe's own
    liveness (``/v2/health/live``).
    """

    name = "serve"
    start_timeout_s = 120.0  # kserve, onnxruntime and mlflow take a while to import on a busy machine

    def __init__(self, ctx: ServiceContext, kafka_bootstrap: str, mlflow_uri: str) -> None:
        super().__init__(ctx)
        self.kafka_bootstrap = kafka_bootstrap
        self.mlflow_uri = mlflow_uri

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "app", "serve", "--http-port", str(self.port), "--host", HOST]

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
        return answers_ok(f"{self.url}/v2/health/live")
