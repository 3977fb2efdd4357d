"""The stack file (``<data_dir>/stack.json``): connection settings, ports and PIDs of what ``up`` started.

Every other command reads its ``settings`` section through :func:`fieldstream.settings.load_settings`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fieldstream.paths import STACK_FILE_NAME


@dataclass
class ServiceRecord:
    pid: int | None = None
    started_at: float | None = None  # the process's start time: a reused PID is not ours
    port: int | None = None
    log: str | None = None


@dataclass
class StackState:
    settings: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    services: dict[str, ServiceRecord] = field(default_factory=dict)
    postgres_backend: str | None = None

    @classmethod
    def load(cls, data_dir: Path) -> StackState:
        path = data_dir / STACK_FILE_NAME
        if not path.exists():
            return cls()
        raw: dict[str, Any] = json.loads(path.read_text())
        return cls(
            settings=raw.get("settings", {}),
            ports={k: int(v) for k, v in raw.get("ports", {}).items()},
            services={k: ServiceRecord(**v) for k, v in raw.get("services", {}).items()},
            postgres_backend=raw.get("postgres_backend"),
        )

    def save(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / STACK_FILE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
