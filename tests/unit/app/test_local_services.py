"""The local stack's services: the commands they run exist, and their HTTP health probes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from prometheus_client import CollectorRegistry

from app.cli import build_parser
from app.stack.model_services import MlflowService, ServeService
from app.stack.service import ServiceContext, answers_ok
from fieldstream.health import HealthServer


def _ctx(tmp_path: Path, port: int = 8080) -> ServiceContext:
    return ServiceContext(tmp_path, {"serve": port, "mlflow": port})


def test_the_model_server_runs_the_root_cli(tmp_path):
    argv = ServeService(_ctx(tmp_path), "127.0.0.1:9092", "http://127.0.0.1:5000").argv()
    assert argv[1:3] == ["-m", "app"]
    assert importlib.util.find_spec("app.__main__") is not None
    args = build_parser().parse_args(argv[3:])
    assert (args.command, args.http_port) == ("serve", 8080)


def test_http_probes_answer_ok_only_on_200(tmp_path):
    server = HealthServer(0, CollectorRegistry(), live=lambda: True, ready=lambda: (False, "loading"))
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert answers_ok(f"{base}/healthz")
        assert not answers_ok(f"{base}/readyz")  # 503
        assert not answers_ok(f"{base}/nowhere")  # 404
    finally:
        server.stop()
    assert not answers_ok(f"{base}/healthz", timeout_s=0.5)  # nobody listens: no exception either


def test_mlflow_and_kserve_are_probed_on_their_own_paths(tmp_path, monkeypatch):
    asked: list[str] = []
    monkeypatch.setattr("app.stack.model_services.answers_ok", lambda url: asked.append(url) or True)
    ctx = _ctx(tmp_path, 5001)
    assert MlflowService(ctx, "postgresql://u@h/db").healthy()
    assert ServeService(ctx, "k:9092", "http://m").healthy()
    assert asked == ["http://127.0.0.1:5001/health", "http://127.0.0.1:5001/v2/health/live"]
