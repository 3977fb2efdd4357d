"""A small HTTP endpoint per long-running process: ``/metrics`` (Prometheus) and ``/healthz``
(200 when ready, 503 with the reason until then)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


def serve_health(
    port: int, registry: CollectorRegistry, ready: Callable[[], tuple[bool, str]], host: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    """Start the endpoint in a daemon thread; ``port=0`` picks a free one (``server.server_port``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path in ("/healthz", "/health", "/ready"):
                ok, why = ready()
                self._send(
                    200 if ok else 503, json.dumps({"ready": ok, "detail": why}).encode(), "application/json"
                )
            else:
                self._send(404, b'{"error": "not found"}', "application/json")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: metrics are scraped often
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
