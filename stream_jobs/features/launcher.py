"""Start ``fieldstream features run`` as a child process and wait until its job runs (for the demo,
benchmarks and tests); stop it the way an operator does, with SIGTERM (a savepoint, then exit 0)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from fieldstream.health import READY_PATH


class FeatureJobStartError(RuntimeError):
    """The job exited or did not reach RUNNING in time; the message ends with its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FeatureJobProcess:
    """One ``fieldstream features run`` process. ``args`` are extra CLI flags (topics, job name...)."""

    data_dir: Path
    log_path: Path
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    health_port: int = 0

    def start(self, timeout_s: float = 180.0) -> FeatureJobProcess:
        self.health_port = free_port()
        env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(self.data_dir)}
        cmd = [sys.executable, "-m", "app", "features", "run", *self.args]
        cmd += ["--health-port", str(self.health_port)]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise FeatureJobStartError(f"feature job exited {self.proc.returncode}:\n{self.tail()}")
            if self.ready():
                return self
            time.sleep(1.0)
        self.kill()
        raise FeatureJobStartError(f"feature job not RUNNING after {timeout_s:.0f} s:\n{self.tail()}")

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.health_port}{READY_PATH}"
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 90.0) -> int:
        """SIGTERM (stop with a savepoint); SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL, as a crash would (the PyFlink gateway JVM exits with its parent)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
