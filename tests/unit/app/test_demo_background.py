"""The demo's background processes count as ready on the kernel's /readyz, never on /healthz."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry

from app.demo.background import Background
from fieldstream.health import HealthServer


def test_a_live_process_that_is_not_ready_is_waited_for(tmp_path):
    state = {"ready": False}
    server = HealthServer(
        0, CollectorRegistry(), live=lambda: True, ready=lambda: (state["ready"], "model not loaded")
    ).start()
    try:
        background = Background(tmp_path, started={"worker": (os.getpid(), server.port)})
        assert not background.wait_ready("worker", timeout_s=1.5)  # /healthz says 200 all along
        state["ready"] = True
        assert background.wait_ready("worker", timeout_s=5)
    finally:
        server.stop()
