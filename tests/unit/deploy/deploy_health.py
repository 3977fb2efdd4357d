"""One meaning of health in every manifest: a FieldStream service's health endpoint
(:mod:`fieldstream.health`, on the metrics port) is ``/healthz`` for liveness (restart it if not) and
``/readyz`` for readiness (503 with the reason until it takes work). KServe keeps its own
``/v2/health/*`` paths on another port.
"""

from __future__ import annotations

import re

from fieldstream.health import LIVE_PATH, READY_PATH

METRICS_PORT = 9100
METRICS_PORT_NAME = "metrics"
#: a compose healthcheck's request to the metrics port: the path it asks for
COMPOSE_PROBE_URL = re.compile(rf"https?://[^/:'\"]+:{METRICS_PORT}(/[^'\"\s?]*)")


def serves_health(container: dict) -> bool:
    """True when the container exposes the metrics port (where fieldstream.health listens)."""
    return any(
        p.get("containerPort") == METRICS_PORT or p.get("name") == METRICS_PORT_NAME
        for p in container.get("ports", [])
    )


def _on_metrics_port(probe: dict) -> bool:
    port = (probe.get("httpGet") or probe.get("tcpSocket") or {}).get("port")
    return port in (METRICS_PORT, METRICS_PORT_NAME, str(METRICS_PORT))


def k8s_probe_problems(container: dict) -> list[str]:
    """What a FieldStream container's probes get wrong (empty when nothing): both must be HTTP GETs
    on the metrics port, liveness of ``/healthz`` and readiness of ``/readyz``."""
    problems = []
    for kind, path in (("livenessProbe", LIVE_PATH), ("readinessProbe", READY_PATH)):
        probe = container.get(kind)
        if probe is None:
            problems.append(f"{kind}: missing")
        elif not _on_metrics_port(probe):
            problems.append(f"{kind}: not on the metrics port")
        elif (probe.get("httpGet") or {}).get("path") != path:
            problems.append(f"{kind}: must GET {path}")
    return problems


def compose_probe_paths(healthcheck: dict) -> list[str]:
    """The paths a compose healthcheck asks the metrics port for."""
    test = healthcheck.get("test") or []
    return COMPOSE_PROBE_URL.findall(" ".join(test) if isinstance(test, list) else test)
