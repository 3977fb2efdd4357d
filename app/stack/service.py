"""What every service of the local stack is: :class:`Service` (prepare its folder, start, check,
stop) in a :class:`ServiceContext` (the stack's data folder and the ports chosen).

Each service owns a folder under the stack's data folder and one TCP port on 127.0.0.1. The services
themselves: :mod:`app.stack.kafka_service`, :mod:`app.stack.database_services` (PostgreSQL, Redis),
:mod:`app.stack.model_services` (MLflow, the KServe model server).
"""

from __future__ import annotations

import os
import signal
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


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


def answers_ok(url: str, timeout_s: float = 2.0) -> bool:
    """True when a GET of ``url`` answers 200 (an HTTP service's health probe); never raises."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return resp.status == 200
    except Exception:
        return False
