"""The one health and metrics endpoint of every long-running FieldStream process.

- ``/healthz`` — live: 200 while the process does its work (its loop turns), 503 when it is stuck
  and should be restarted;
- ``/readyz`` — ready: 200 once it can take traffic (model loaded, consumer assigned, job running),
  503 with the reason before;
- ``/metrics`` — Prometheus text format of the given registry.

Each check returns ``bool`` or ``(bool, detail)``; the body is JSON ``{"ok": ..., "detail": ...}``.
A check that raises counts as failing (and is logged). Served from a daemon thread; ``port=0``
picks a free one (:attr:`HealthServer.port`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger("fieldstream.health")
Check = Callable[[], "bool | tuple[bool, str]"]
LIVE_PATH = "/healthz"
READY_PATH = "/readyz"


def always(detail: str = "running") -> Check:
    """A check that always passes (e.g. liveness of a process whose loop has no way to stall)."""
    return lambda: (True, detail)


class HealthServer:
    def __init__(
        self,
        port: int,
        registry: CollectorRegistry,
        live: Check,
        ready: Check,
        host: str = "127.0.0.1",
    ) -> None:
        checks = {LIVE_PATH: live, READY_PATH: ready}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path in checks:
                    ok, detail = run_check(checks[path])
                    body = json.dumps({"ok": ok, "detail": detail}).encode()
                    self._reply(200 if ok else 503, body, "application/json")
                else:
                    self._reply(404, b'{"error": "not found"}', "application/json")

            def _reply(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet: scraped often
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("health and metrics endpoint up", extra={"port": self.port})
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def run_check(check: Check) -> tuple[bool, str]:
    try:
        result = check()
    except Exception as exc:
        log.exception("health check raised")
        return False, f"check failed: {exc}"
    if isinstance(result, tuple):
        return bool(result[0]), str(result[1])
    return bool(result), "ok" if result else "not ready"
