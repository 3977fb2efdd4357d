"""The one health endpoint: /healthz (live), /readyz (ready, with the reason), /metrics."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, Counter

from fieldstream.health import HealthServer


def test_health_server_answers_liveness_readiness_and_metrics():
    registry = CollectorRegistry()
    Counter("fieldstream_test_total", "a test counter", registry=registry).inc(3)
    state = {"ready": False}
    server = HealthServer(0, registry, live=lambda: True, ready=lambda: state["ready"]).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert urllib.request.urlopen(f"{base}/healthz").status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/readyz")
        assert err.value.code == 503
        state["ready"] = True
        assert urllib.request.urlopen(f"{base}/readyz").status == 200
        assert "fieldstream_test_total 3.0" in urllib.request.urlopen(f"{base}/metrics").read().decode()
    finally:
        server.stop()


def test_a_check_that_raises_or_explains_itself_is_reported():
    def broken() -> bool:
        raise RuntimeError("database gone")

    server = HealthServer(
        0, CollectorRegistry(), live=broken, ready=lambda: (False, "model not loaded")
    ).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        for path, detail in (("/healthz", "check failed: database gone"), ("/readyz", "model not loaded")):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"{base}{path}")
            assert err.value.code == 503
            assert json.loads(err.value.read()) == {"ok": False, "detail": detail}
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/health")
        assert err.value.code == 404
    finally:
        server.stop()
