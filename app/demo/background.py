"""Processes the demo starts beside the stack (feature job, history sink, workers), stopped by PID.

Each serves the kernel's health endpoint (:mod:`fieldstream.health`); the demo waits for ``/readyz``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from app.stack.process import free_port, stop
from fieldstream.health import READY_PATH


@dataclass
class Background:
    data_dir: Path
    started: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (pid, health port)

    def start(self, name: str, *args: str, health_flag: str | None = "--metrics-port") -> int:
        port = free_port()
        argv = [sys.executable, "-m", "app", *args]
        if health_flag:
            argv += [health_flag, str(port)]
        log = self.data_dir / "logs" / f"demo-{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(self.data_dir)}
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.started[name] = (proc.pid, port)
        return proc.pid

    def wait_ready(self, name: str, timeout_s: float = 180) -> bool:
        pid, port = self.started[name]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{READY_PATH}", timeout=2) as resp:
                    if resp.status == 200:  # not ready answers 503 (urlopen raises)
                        return True
            except Exception:
                pass
            time.sleep(1)
        return False

    def exited(self) -> list[str]:
        """Names of the processes that are no longer running."""
        gone = []
        for name, (pid, _port) in self.started.items():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                gone.append(name)
        return gone

    def stop_all(self) -> None:
        for pid, _port in self.started.values():
            stop(pid, signal.SIGTERM, timeout_s=30)
        self.started.clear()
