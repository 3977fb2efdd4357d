"""Benchmark the KServe model server (`fieldstream serve`): latency of one request, and throughput with
1, 8 and 32 concurrent clients, for the vision model (one 640x480 JPEG a request) and the audio
model (one 5 s, 32 kHz WAV a request), over Open Inference Protocol v2 REST (binary extension).

Prints one JSON object. Seed targets: under 30 ms per request; at least 8 concurrent clients served.

Self-contained: by default both models are exported untrained to a temporary folder (the same
architecture, ONNX graph and compute as a trained version; only the number of boxes found differs,
reported as ``results_per_request``) and served as local files, so no stack is needed. Pass
``--vision-model`` / ``--audio-model PATH.onnx`` to serve given files (a trained version, e.g. from
``ModelRegistry.download``). The load generator runs on the same machine as the server (lean
keep-alive HTTP clients, one thread each): on a small machine it takes CPU from the server, and the
figures say how loaded the machine was.

    .venv/bin/python benchmarks/serving.py [--seconds 8] [--vision-model X.onnx] [--audio-model Y.onnx]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

# Run as a script, this folder is sys.path[0], and benchmarks/producers.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from app.stack.process import free_port, is_running, spawn, stop  # noqa: E402
from inference_workers.serving.protocol import binary_media_request  # noqa: E402

TARGET_LATENCY_MS = 30.0
TARGET_CONCURRENT = 8
CONCURRENCY = (1, 8, 32)
MODELS = {"vision": "vision-detector", "audio": "audio-classifier"}
STAGES = ["decode", "preprocess", "infer", "postprocess"]


# ---- inputs and models --------------------------------------------------------------------------
def sample_media(task: str) -> bytes:
    if task == "vision":
        from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg

        frame = next(iter(FieldCameraSimulator(FieldCameraConfig(seed=3, width=640, height=480)).frames(1)))
        return encode_jpeg(frame.image, 85)
    from producers.soundscape import SoundscapeConfig, SoundscapeSimulator

    return next(iter(SoundscapeSimulator(SoundscapeConfig(seed=3)).chunks(1))).to_wav()


def export_untrained(task: str, folder: Path) -> Path:
    """The task's model, freshly initialised, exported as training exports it (spec + extras)."""
    import torch

    from inference_workers.serving.inputs import expected_shape
    from model_contract.metadata import EXTRAS_METADATA_KEY, add_metadata
    from training.config import TrainConfig
    from training.export import export_onnx
    from training.tasks import make_task

    spec_task = make_task(TrainConfig(task=task))
    torch.manual_seed(0)
    model = spec_task.build_model().eval()
    shape = expected_shape(spec_task.spec)
    path = export_onnx(model, torch.zeros(1, *shape), folder / f"{task}.onnx")
    add_metadata(path, EXTRAS_METADATA_KEY, json.dumps(spec_task.runtime_extras()))
    return path


# ---- the server ---------------------------------------------------------------------------------
class Server:
    def __init__(self, task: str, model_path: Path, log: Path) -> None:
        self.model = MODELS[task]
        self.port = free_port()
        env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(log.parent)}
        argv = [sys.executable, "-m", "app", "serve", "--model-name", self.model]
        argv += ["--model", str(model_path), "--http-port", str(self.port), "--host", "127.0.0.1"]
        self.log = log
        self.pid = spawn(argv, log, env=env)
        deadline = time.monotonic() + 180
        while self._status(f"/v2/models/{self.model}/ready") != 200:
            if not is_running(self.pid) or time.monotonic() > deadline:
                raise RuntimeError(f"server did not get ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)

    def _status(self, path: str) -> int:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", path)
            return conn.getresponse().status
        except OSError:
            return 0

    def metrics(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()

    def rss_mb(self) -> float:
        return round(psutil.Process(self.pid).memory_info().rss / 2**20, 1)

    def close(self) -> None:
        stop(self.pid)


# ---- load ---------------------------------------------------------------------------------------
class Client:
    """One keep-alive connection sending the same request over and over."""

    def __init__(self, port: int, model: str, body: bytes, headers: dict[str, str]) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.path = f"/v2/models/{model}/infer"
        self.body, self.headers = body, headers

    def call(self) -> tuple[float, int, bytes]:
        t0 = time.perf_counter()
        self.conn.request("POST", self.path, self.body, self.headers)
        resp = self.conn.getresponse()
        data = resp.read()
        return (time.perf_counter() - t0) * 1e3, resp.status, data


def run_load(server: Server, body: bytes, headers: dict[str, str], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def work() -> None:
        client = Client(server.port, server.model, body, headers)
        mine, bad = [], []
        start.wait()
        while time.perf_counter() < stop_at[0]:
            try:
                ms, status, data = client.call()
            except OSError as exc:
                bad.append(repr(exc))
                client = Client(server.port, server.model, body, headers)
                continue
            (mine if status == 200 else bad).append(ms if status == 200 else f"{status}: {data[:200]!r}")
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.perf_counter() + seconds
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(seconds + 180)
    elapsed = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        **percentiles(latencies),
    }


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_ms": None, "p99_ms": None, "mean_ms": None}
    return {
        "p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
    }


Totals = dict[tuple[str, str], float]


def stage_totals(metrics: str, model: str) -> Totals:
    """(sum|count, stage) -> total over versions, from the fieldstream_serving_stage_ms histogram."""
    totals: Totals = {}
    samples = re.findall(r"fieldstream_serving_stage_ms_(sum|count)\{([^}]*)\} (\S+)", metrics)
    for kind, labels, value in samples:
        tags = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if tags.get("model") == model:
            key = (kind, tags["stage"])
            totals[key] = totals.get(key, 0.0) + float(value)
    return totals


def stage_means(before: Totals, after: Totals) -> dict[str, float]:
    """Mean server-side ms per stage over the requests between two snapshots."""
    delta = {k: v - before.get(k, 0.0) for k, v in after.items()}
    stages = sorted({stage for _kind, stage in delta}, key=STAGES.index)
    return {s: round(delta["sum", s] / delta["count", s], 2) for s in stages if delta.get(("count", s))}


def bench_model(task: str, model_path: Path, work: Path, seconds: float) -> dict:
    media = sample_media(task)
    body, headers = binary_media_request([media])
    server = Server(task, model_path, work / f"serve-{task}.log")
    try:
        warm = Client(server.port, server.model, body, headers)
        for _ in range(20):
            _ms, status, data = warm.call()
            assert status == 200, data[:300]
        results = len(json.loads(_first_output(data)))
        loads = {}
        for clients in CONCURRENCY:
            before = stage_totals(server.metrics(), server.model)
            loads[str(clients)] = run_load(server, body, headers, clients, seconds)
            after = stage_totals(server.metrics(), server.model)
            loads[str(clients)]["server_stage_ms_mean"] = stage_means(before, after)
        single = loads["1"]  # one client: the latency of one request, back to back
        return {
            "input": f"{'640x480 JPEG' if task == 'vision' else '5 s 32 kHz PCM16 WAV'}, {len(media)} bytes",
            "model": str(model_path),
            "results_per_request": results,
            "single_request": {k: single[k] for k in ("requests", "p50_ms", "p99_ms", "mean_ms")},
            "concurrency": loads,
            "server_rss_mb": server.rss_mb(),
        }
    finally:
        server.close()


def _first_output(response: bytes) -> str:
    """The first ``detections`` element of a JSON (non-binary) V2 response."""
    return json.loads(response)["outputs"][0]["data"][0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument(
        "--vision-model", type=Path, default=None, help="ONNX file (default: untrained export)"
    )
    parser.add_argument(
        "--audio-model", type=Path, default=None, help="ONNX file (default: untrained export)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fs-bench-serving-"))
    load_before = [round(x, 2) for x in os.getloadavg()]
    paths = {"vision": args.vision_model, "audio": args.audio_model}
    untrained = [task for task, path in paths.items() if path is None]
    try:
        for task in untrained:
            paths[task] = export_untrained(task, work)
        results = {task: bench_model(task, paths[task], work, args.seconds) for task in MODELS}  # type: ignore[arg-type]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ratios = {}
    served = []
    for task, r in results.items():
        ratios[f"{task}_p50_to_target"] = round(r["single_request"]["p50_ms"] / TARGET_LATENCY_MS, 3)
        ratios[f"{task}_p99_to_target"] = round(r["single_request"]["p99_ms"] / TARGET_LATENCY_MS, 3)
        ok = [
            c
            for c in CONCURRENCY
            if r["concurrency"][str(c)]["errors"] == 0 and r["concurrency"][str(c)]["requests"]
        ]
        served.append(max(ok, default=0))
    ratios["concurrent_clients_served_to_target"] = round(min(served) / TARGET_CONCURRENT, 3)
    print(
        json.dumps(
            {
                "benchmark": "serving",
                "machine": {
                    "cpus": os.cpu_count(),
                    "load_average_before": load_before,
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                    "note": "server and load generator share this machine's CPUs",
                },
                "protocol": "Open Inference Protocol v2 REST, binary extension, one input per request",
                "untrained_models": untrained,
                "seconds_per_measurement": args.seconds,
                **results,
                "targets": {"latency_ms": TARGET_LATENCY_MS, "concurrent_clients": TARGET_CONCURRENT},
                "ratios": ratios,
                "meets_targets": {
                    "latency_p50": all(v <= 1 for k, v in ratios.items() if k.endswith("_p50_to_target")),
                    "latency_p99": all(v <= 1 for k, v in ratios.items() if k.endswith("_p99_to_target")),
                    "concurrency": ratios["concurrent_clients_served_to_target"] >= 1,
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
