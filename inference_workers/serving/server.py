"""Run the KServe ModelServer with FieldStream's models; registered models may start not ready
(no champion yet) and become ready when a promotion arrives."""

from __future__ import annotations

import logging
import os
import warnings
from typing import Any

from kserve import ModelServer
from kserve.errors import InvalidInput, ModelNotFound, ModelNotReady
from kserve.model_server import app

from fieldstream.model_names import CHAMPION
from fieldstream.settings import Settings
from inference_workers.runtime import load_runtime
from inference_workers.runtime.model import ModelRuntime
from inference_workers.serving.follow import ChampionFollower
from inference_workers.serving.inputs import PayloadTooLarge
from inference_workers.serving.limits import BodyLimit, max_body_bytes
from inference_workers.serving.metrics import ServingMetrics
from inference_workers.serving.model import FieldStreamModel
from inference_workers.serving.protocol import FieldStreamDataPlane

log = logging.getLogger("fieldstream.serving")
#: kserve and uvicorn configure their own log handlers; theirs go through FieldStream's instead.
FOREIGN_LOGGERS = ("kserve", "kserve.trace", "uvicorn", "uvicorn.error", "uvicorn.access")
CLIENT_ERRORS = (InvalidInput, ModelNotFound, ModelNotReady)


class FieldStreamModelServer(ModelServer):
    """kserve's ModelServer with models that may start not ready, a data plane that keeps binary
    media intact, a request-body limit (413) and a bind address (kserve's is always 0.0.0.0)."""

    def __init__(
        self, host: str, max_payload_bytes: int, metrics: ServingMetrics | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.max_body_bytes = max_body_bytes(max_payload_bytes)
        self.metrics = metrics
        self.dataplane = FieldStreamDataPlane(self.registered_models, self.dataplane.predictor_config)
        for name in FOREIGN_LOGGERS:  # through FieldStream's handler, at FieldStream's level
            foreign = logging.getLogger(name)
            foreign.handlers.clear()
            foreign.propagate = True
            foreign.setLevel(logging.NOTSET)
            foreign.addFilter(_without_colours)
        logging.getLogger("kserve.trace").setLevel(logging.WARNING)  # two timing lines per request
        logging.getLogger("kserve").addFilter(_client_errors_without_traceback)

    def _register_and_check_atleast_one_model_is_ready(self, models: list[Any]) -> None:
        for model in models:
            self.register_model(model)
            model.enable_latency_logging = self.enable_latency_logging
            model.start()

    def setup_event_loop(self) -> None:
        # kserve calls this in start() after building its REST server and before running it: the
        # moment to set the bind address and add what the app needs.
        super().setup_event_loop()
        if self._rest_server is not None:
            self._rest_server.config.host = self.host
        on_reject = (lambda model: self.metrics.track_rejected(model, "too_large")) if self.metrics else None
        app.add_middleware(BodyLimit, limit=self.max_body_bytes, on_reject=on_reject)
        app.add_exception_handler(PayloadTooLarge, _payload_too_large)


def _without_colours(record: logging.LogRecord) -> bool:
    record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    return True


def _client_errors_without_traceback(record: logging.LogRecord) -> bool:
    """kserve logs every 4xx at ERROR with a traceback (each readiness probe of a model not promoted
    yet, each bad request): log those as one WARNING line instead."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, CLIENT_ERRORS):
        record.msg, record.args, record.exc_info = f"request rejected: {exc}", (), None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


async def _payload_too_large(_request: Any, exc: Exception) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=413, content={"error": str(exc)})


def build_model(
    settings: Settings, name: str, ref: str | None, metrics: ServingMetrics | None = None
) -> tuple[FieldStreamModel, ChampionFollower | None]:
    """The model, loaded when a version exists; with no ``ref`` it follows the champion."""

    def load_ref(model_ref: str) -> ModelRuntime:
        return load_runtime(
            model_ref, settings.mlflow_tracking_uri, settings.model_download_dir, settings.model_precision
        )

    def load_version(version: str) -> ModelRuntime:
        return load_ref(f"models:/{name}/{version}")

    def load() -> ModelRuntime | None:
        try:
            return load_ref(ref or f"models:/{name}@{CHAMPION}")
        except Exception as exc:
            if ref is not None:
                raise
            log.warning(
                "model not loaded yet; serving it when one is promoted",
                extra={"model": name, "error": str(exc)},
            )
            return None

    model = FieldStreamModel(name, load, settings.max_payload_bytes, metrics)
    model.load()
    follower = ChampionFollower(settings, model, load_version) if ref is None else None
    return model, follower


def serve(
    settings: Settings,
    names: list[str],
    ref: str | None,
    http_port: int,
    grpc_port: int | None,
    host: str = "0.0.0.0",
) -> None:
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # no progress bars in the log
    warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated")  # kserve's, not ours
    metrics = ServingMetrics()
    models = []
    for name in names:
        model, follower = build_model(settings, name, ref if len(names) == 1 else None, metrics)
        if follower is not None:
            follower.start()
        models.append(model)
    server = FieldStreamModelServer(
        host=host,
        max_payload_bytes=settings.max_payload_bytes,
        metrics=metrics,
        http_port=http_port,
        grpc_port=grpc_port or 8081,
        enable_grpc=grpc_port is not None,
        workers=1,
        enable_latency_logging=False,
    )
    log.info(
        "model server starting",
        extra={
            "host": host,
            "http_port": http_port,
            "models": names,
            "max_body_bytes": server.max_body_bytes,
        },
    )
    server.start(models)
