"""The one settings object every FieldStream command reads.

Precedence, highest first: environment variables (``FIELDSTREAM_*`` and ``MLFLOW_TRACKING_URI``),
then the stack file that ``fieldstream stack up`` writes (``<data_dir>/stack.json``), then defaults.
Nothing here runs at import time: call :func:`load_settings` at a command's boundary.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fieldstream.paths import DEFAULT_DATA_DIR, STACK_FILE_NAME

MB = 1024 * 1024


class Settings(BaseModel):
    """Connection settings and limits shared by producers, jobs, workers, training and serving."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Folder holding the local stack's state and data.")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers, host:port[,...].")
    postgres_dsn: str = Field(
        "postgresql://fieldstream@127.0.0.1:5432/fieldstream",
        description="libpq URI of the history database (TimescaleDB or plain PostgreSQL).",
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL of the online feature store.")
    mlflow_tracking_uri: str = Field("http://127.0.0.1:5000", description="MLflow tracking server URL.")
    model_precision: Literal["auto", "fp32", "int8"] = Field(
        "auto",
        description="Which variant of a registered model workers and the server run: auto (int8 on CPU"
        " when the version ships one), fp32 or int8.",
    )
    max_payload_bytes: int = Field(8 * MB, gt=0, description="Largest media payload a record may carry.")
    log_level: str = Field("info", description="debug | info | warning | error")
    log_format: str = Field("json", description="json (structured, one object a line) | text")

    @property
    def model_download_dir(self) -> Path:
        """Where workers and servers download registry versions (each removed once loaded)."""
        return self.data_dir / "model-downloads"

    @property
    def stack_file(self) -> Path:
        return self.data_dir / STACK_FILE_NAME


#: Environment variable -> settings field. The README's settings table mirrors this mapping.
ENV_VARS: dict[str, str] = {
    "FIELDSTREAM_DATA_DIR": "data_dir",
    "FIELDSTREAM_KAFKA_BOOTSTRAP": "kafka_bootstrap",
    "FIELDSTREAM_POSTGRES_DSN": "postgres_dsn",
    "FIELDSTREAM_REDIS_URL": "redis_url",
    "MLFLOW_TRACKING_URI": "mlflow_tracking_uri",
    "FIELDSTREAM_MODEL_PRECISION": "model_precision",
    "FIELDSTREAM_MAX_PAYLOAD_BYTES": "max_payload_bytes",
    "FIELDSTREAM_LOG_LEVEL": "log_level",
    "FIELDSTREAM_LOG_FORMAT": "log_format",
}

#: Stack-file keys that map onto settings fields (the stack file also holds PIDs, ports, ...).
_STACK_KEYS = ("kafka_bootstrap", "postgres_dsn", "redis_url", "mlflow_tracking_uri")


def read_stack_file(path: Path) -> dict[str, Any]:
    """The stack file as a dict, or an empty dict when the stack was never started there."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from ``env`` (default: ``os.environ``), the stack file, and ``overrides``."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    data_dir = Path(overrides.get("data_dir") or env.get("FIELDSTREAM_DATA_DIR") or DEFAULT_DATA_DIR)
    stack = read_stack_file(data_dir / STACK_FILE_NAME).get("settings", {})
    values.update({k: v for k, v in stack.items() if k in _STACK_KEYS})
    values.update({field: env[var] for var, field in ENV_VARS.items() if env.get(var)})
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = data_dir
    return Settings(**values)
