"""Run the history sink as a service: signals, health/metrics endpoint, structured logs."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from prometheus_client import CollectorRegistry

from fieldstream.health import HealthServer
from fieldstream.settings import Settings
from stream_jobs.history.metrics import SinkMetrics
from stream_jobs.history.sink import HistorySink, HistorySinkConfig

log = logging.getLogger("fieldstream.history")
#: /healthz fails when the loop has not turned for this long (stuck on a broker or the database)
STALL_S = 120.0


def run_history_sink(
    settings: Settings,
    config: HistorySinkConfig,
    health_port: int | None = None,
    health_host: str = "127.0.0.1",
) -> int:
    registry = CollectorRegistry()
    sink = HistorySink(settings, config, SinkMetrics(registry))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        sink.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    health = None
    if health_port is not None:
        health = HealthServer(
            health_port,
            registry,
            live=lambda: time.monotonic() - sink.last_loop < STALL_S,
            ready=lambda: sink.assigned,
            host=health_host,
        ).start()
    try:
        sink.run()
    finally:
        if health is not None:
            health.stop()
    return 0
