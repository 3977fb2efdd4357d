"""Run a Flink job to the end of the process: submit, watch, stop with a savepoint on SIGTERM/SIGINT.

A clean stop takes a savepoint *without* draining (no MAX_WATERMARK: open windows stay open and
continue after the restart), so the next run resumes from it exactly. If the savepoint cannot be
taken the job is cancelled; its last retained checkpoint is then the restore point.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger("fieldstream.flink.lifecycle")
TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}


@dataclass
class JobState:
    """What the driver knows of its job (read by the health endpoint from another thread)."""

    status: str = "SUBMITTING"
    job_id: str | None = None
    started_at: float = field(default_factory=time.time)

    @property
    def live(self) -> bool:
        return self.status not in ("FAILED", "SUSPENDED")

    @property
    def ready(self) -> bool:
        return self.status == "RUNNING"


def job_metrics(registry: CollectorRegistry, state: JobState, job_name: str) -> None:
    """Driver-level gauges (throughput, lag and UDF metrics come from Flink's own reporter)."""
    up = Gauge("fieldstream_flink_job_running", "1 while the job is RUNNING", ["job"], registry=registry)
    up.labels(job_name).set_function(lambda: 1.0 if state.status == "RUNNING" else 0.0)
    uptime = Gauge(
        "fieldstream_flink_job_uptime_seconds", "seconds since submission", ["job"], registry=registry
    )
    uptime.labels(job_name).set_function(lambda: time.time() - state.started_at)


class JobRunner:
    """Watch a submitted job until it ends or the process is told to stop."""

    def __init__(
        self, savepoint_dir: Path, state: JobState, poll_s: float = 1.0, savepoint_timeout_s: float = 120.0
    ) -> None:
        self.savepoint_dir = savepoint_dir
        self.state = state
        self.poll_s = poll_s
        self.savepoint_timeout_s = savepoint_timeout_s
        self._stop = threading.Event()

    def request_stop(self, signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self, table_result: Any) -> int:
        """Exit code: 0 after a clean stop or finish, 1 when the job failed."""
        client = table_result.get_job_client()
        self.state.job_id = str(client.get_job_id())
        log.info("flink job submitted", extra={"job_id": self.state.job_id})
        while not self._stop.wait(self.poll_s):
            status = client.get_job_status().result().name
            if status != self.state.status:
                log.info("flink job status", extra={"job_id": self.state.job_id, "status": status})
                self.state.status = status
            if status in TERMINAL:
                return 0 if status == "FINISHED" else 1
        return self._stop_job(client)

    def _stop_job(self, client: Any) -> int:
        from pyflink.java_gateway import get_gateway

        self.state.status = "STOPPING"
        self.savepoint_dir.mkdir(parents=True, exist_ok=True)
        jvm = get_gateway().jvm
        canonical = jvm.org.apache.flink.core.execution.SavepointFormatType.CANONICAL
        seconds = jvm.java.util.concurrent.TimeUnit.SECONDS
        try:
            # PyFlink's stop_with_savepoint calls a 2-argument Java method Flink 2.x no longer has.
            future = client._j_job_client.stopWithSavepoint(
                False, self.savepoint_dir.resolve().as_uri(), canonical
            )
            path = future.get(int(self.savepoint_timeout_s), seconds)
            log.info("flink job stopped with a savepoint", extra={"savepoint": str(path)})
            self.state.status = "STOPPED"
        except Exception as exc:  # not RUNNING (restarting), or the savepoint timed out
            log.warning(
                "savepoint failed; cancelling (the last retained checkpoint is the restore point)",
                extra={"error": str(exc).splitlines()[0][:300]},
            )
            client.cancel().result()
            self.state.status = "CANCELED"
        return 0
