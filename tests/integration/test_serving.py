"""The KServe model server (`fieldstream serve`, a subprocess on a free port) against the session
stack's MLflow and Kafka and the session's trained champions: Open Inference Protocol v2 through
tritonclient (binary and JSON) and plain HTTP, the same detections as an inference worker, eight
concurrent clients, every kind of bad request answered 4xx, and a promotion swapping the version."""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as triton
from kafka_reading import consume_until
from simulated_records import Published, publish_chunks, publish_frames

from app.stack.process import free_port, is_running, spawn, stop
from fieldstream.contracts import decode_message
from fieldstream.kafka.admin import commit_group_at_end
from fieldstream.model_names import AUDIO_MODEL, CHALLENGER, CHAMPION, VISION_MODEL
from fieldstream.topics import AUDIO_RAW, DETECTIONS_AUDIO, DETECTIONS_VISION, FRAMES_RAW
from inference_workers.runtime import load_runtime
from inference_workers.serving.protocol import binary_media_request
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.loop import InferenceWorker
from model_contract.registry import ModelRegistry
from training.events import model_event, publish_model_event

#: Small for the test (the default is 8 MB): a 5 s WAV (320 KB) still fits, 3 MB does not.
MAX_PAYLOAD = 2 * 1024 * 1024
REPO = Path(__file__).resolve().parents[2]
README = REPO / "inference_workers" / "serving" / "README.md"


@dataclass(frozen=True)
class Server:
    url: str  # host:port, as tritonclient takes it
    pid: int
    log: Path

    def client(self) -> triton.InferenceServerClient:
        return triton.InferenceServerClient(self.url, connection_timeout=30, network_timeout=60)


@pytest.fixture(scope="module")
def server(settings, trained_models, tmp_path_factory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("serving") / "serve.log"
    env = {
        **os.environ,
        "FIELDSTREAM_DATA_DIR": str(settings.data_dir),
        "FIELDSTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        "FIELDSTREAM_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD),
        "FIELDSTREAM_LOG_FORMAT": "text",
    }
    argv = [sys.executable, "-m", "app", "serve", "--http-port", str(port), "--host", "127.0.0.1"]
    pid = spawn(argv, log, env=env)
    server = Server(f"127.0.0.1:{port}", pid, log)
    try:
        deadline = time.monotonic() + 180
        while not all(_status(server, f"/v2/models/{m}/ready") == 200 for m in (VISION_MODEL, AUDIO_MODEL)):
            assert is_running(pid), f"server exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"models not ready in 180 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.5)
        yield server
    finally:
        stop(pid)
        assert not is_running(pid), "the server is still running after stop"


# ---- helpers ---------------------------------------------------------------------------------------
def _status(server: Server, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://{server.url}{path}", timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _get(server: Server, path: str) -> dict:
    with urllib.request.urlopen(f"http://{server.url}{path}", timeout=10) as resp:
        return json.loads(resp.read())


def _post(server: Server, model: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://{server.url}/v2/models/{model}/infer",
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _base64_json(media: list[bytes]) -> bytes:
    """What a plain HTTP client sends: BYTES as base64 strings in JSON."""
    data = [base64.b64encode(m).decode() for m in media]
    return json.dumps(
        {"inputs": [{"name": "media", "shape": [len(data)], "datatype": "BYTES", "data": data}]}
    ).encode()


def _plain_http(server: Server, model: str, media: bytes) -> tuple[str, list]:
    status, body = _post(server, model, _base64_json([media]))
    assert status == 200, body
    return body["model_version"], json.loads(body["outputs"][0]["data"][0])


def _triton(server: Server, model: str, media: list[bytes], binary: bool) -> tuple[str, list[list]]:
    items = media if binary else [base64.b64encode(m) for m in media]
    tensor = triton.InferInput("media", [len(items)], "BYTES")
    tensor.set_data_from_numpy(np.array(items, dtype=np.object_), binary_data=binary)
    result = server.client().infer(model, [tensor])
    return result.get_response()["model_version"], [json.loads(d) for d in result.as_numpy("detections")]


def _offline_frames(count: int) -> list[bytes]:
    """JPEG frames straight from the simulator (no Kafka)."""
    from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg

    sim = FieldCameraSimulator(FieldCameraConfig(device_id="srv-offline", seed=701))
    return [encode_jpeg(f.image, 85) for f in sim.frames(count)]


def _worker_detections(
    settings, consumer_factory, kind: str, publish: Callable[[], Published]
) -> tuple[Published, dict]:
    """Publish records, let an in-process worker (its own group) turn them into detection messages."""
    group = f"serving-{kind}-{uuid.uuid4().hex[:8]}"
    topic, output, key = (
        (FRAMES_RAW, DETECTIONS_VISION, "frame_id")
        if kind == "vision"
        else (AUDIO_RAW, DETECTIONS_AUDIO, "chunk_id")
    )
    commit_group_at_end(settings, group, [topic])
    published = publish()
    worker = InferenceWorker(
        settings, WorkerConfig(kind=kind, group_id=group, worker_id=group, watch_models=False)
    )
    worker.start()
    try:
        worker.run(max_records=len(published.ids), idle_exit_s=30)
    finally:
        worker.close()
    ids = set(published.ids)
    got = consume_until(
        consumer_factory(output), lambda ms: {decode_message(output, m.value())[key] for m in ms} >= ids, 60
    )
    messages = [decode_message(output, m.value()) for m in got]
    return published, {m[key]: m for m in messages if m[key] in ids}


def _same_boxes(served: list[dict], worker: list[dict]) -> None:
    def key(b: dict) -> tuple:
        return (b["class_id"], round(b["xyxy"][0], 3), round(b["xyxy"][1], 3))

    assert len(served) == len(worker), (served, worker)
    for s, w in zip(sorted(served, key=key), sorted(worker, key=key), strict=True):
        assert s["class_name"] == w["class_name"]
        assert s["score"] == pytest.approx(w["score"], abs=2e-4)
        assert s["xyxy"] == pytest.approx(w["xyxy"], abs=2e-4)


def _same_species(served: list[dict], worker: list[dict]) -> None:
    assert [s["id"] for s in sorted(served, key=lambda s: s["id"])] == [
        w["id"] for w in sorted(worker, key=lambda w: w["id"])
    ]
    by_id = {w["id"]: w for w in worker}
    for s in served:
        assert s["name"] == by_id[s["id"]]["name"]
        assert s["score"] == pytest.approx(by_id[s["id"]]["score"], abs=2e-4)


# ---- the tests -------------------------------------------------------------------------------------
def test_health_readiness_and_metadata(server, settings):
    assert _get(server, "/v2/health/live") == {"live": True}
    assert _get(server, "/v2/health/ready") == {"ready": True}
    assert set(_get(server, "/v2/models")["models"]) == {VISION_MODEL, AUDIO_MODEL}
    registry = ModelRegistry(settings.mlflow_tracking_uri)
    champion = {m: registry.by_alias(m, CHAMPION).version for m in (VISION_MODEL, AUDIO_MODEL)}
    client = server.client()
    assert client.is_server_live() and client.is_server_ready()
    for model, input_name in ((VISION_MODEL, "images"), (AUDIO_MODEL, "log_mel")):
        assert client.is_model_ready(model)
        assert _get(server, f"/v2/models/{model}/ready") == {"name": model, "ready": True}
        meta = client.get_model_metadata(model)
        assert meta["versions"] == [champion[model]] and meta["platform"] == "onnxruntime_onnx"
        assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [
            ("media", "BYTES"),
            (input_name, "FP32"),
        ]
        assert meta["outputs"] == [{"name": "detections", "datatype": "BYTES", "shape": [-1]}]
    assert _status(server, "/v2/models/no-such-model") == 404
    assert _status(server, "/v2/models/no-such-model/ready") == 404


def test_vision_detections_match_the_worker_through_every_client(
    server, settings, producer, consumer_factory
):
    tag = uuid.uuid4().hex[:6]
    published, messages = _worker_detections(
        settings,
        consumer_factory,
        "vision",
        lambda: publish_frames(producer, [f"srv-boom-{tag}"], 4, seed=700),
    )
    assert set(messages) == set(published.ids)
    media = [published.media[i] for i in published.ids]
    versions = {m["model"]["version"] for m in messages.values()}
    binary_version, binary = _triton(server, VISION_MODEL, media, binary=True)
    json_version, as_json = _triton(server, VISION_MODEL, media, binary=False)
    assert {binary_version, json_version} == versions
    assert sum(len(b) for b in binary) > 0, "the tiny model should find some plants"
    for i, frame_id in enumerate(published.ids):
        worker_boxes = messages[frame_id]["boxes"]
        _same_boxes(binary[i], worker_boxes)
        _same_boxes(as_json[i], worker_boxes)
        version, one = _plain_http(server, VISION_MODEL, media[i])
        assert version in versions
        _same_boxes(one, worker_boxes)

    # A tensor preprocessed by the client (training's preprocessing) gives the same boxes.
    runtime = load_runtime(f"models:/{VISION_MODEL}/{binary_version}", settings.mlflow_tracking_uri)
    tensor = runtime.preprocess([runtime.decode(m) for m in media])
    request = triton.InferInput("images", list(tensor.shape), "FP32")
    request.set_data_from_numpy(tensor, binary_data=True)
    result = server.client().infer(VISION_MODEL, [request])
    for i, frame_id in enumerate(published.ids):
        _same_boxes(json.loads(result.as_numpy("detections")[i]), messages[frame_id]["boxes"])


def test_audio_species_match_the_worker_through_every_client(server, settings, producer, consumer_factory):
    tag = uuid.uuid4().hex[:6]
    published, messages = _worker_detections(
        settings, consumer_factory, "audio", lambda: publish_chunks(producer, [f"srv-rec-{tag}"], 3, seed=700)
    )
    assert set(messages) == set(published.ids)
    media = [published.media[i] for i in published.ids]
    versions = {m["model"]["version"] for m in messages.values()}
    binary_version, binary = _triton(server, AUDIO_MODEL, media, binary=True)
    json_version, as_json = _triton(server, AUDIO_MODEL, media, binary=False)
    assert {binary_version, json_version} == versions
    for i, chunk_id in enumerate(published.ids):
        worker_species = messages[chunk_id]["species"]
        _same_species(binary[i], worker_species)
        _same_species(as_json[i], worker_species)
        _same_species(_plain_http(server, AUDIO_MODEL, media[i])[1], worker_species)


def test_eight_concurrent_clients_are_all_served(server):
    frames = _offline_frames(3)
    _, expected = _triton(server, VISION_MODEL, frames, binary=True)
    barrier = threading.Barrier(8)

    def client(n: int) -> list[list]:
        barrier.wait(30)  # all eight start together
        out = []
        for r in range(4):
            i = (n + r) % len(frames)
            _, got = _triton(server, VISION_MODEL, [frames[i]], binary=n % 2 == 0)
            out.append((i, got[0]))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [f.result(timeout=300) for f in [pool.submit(client, n) for n in range(8)]]
    assert sum(len(r) for r in results) == 32
    for result in results:
        for i, boxes in result:
            _same_boxes(boxes, expected[i])


def _binary_body(items: list[bytes], json_length_delta: int = 0) -> tuple[bytes, dict[str, str]]:
    """A binary-extension body; ``json_length_delta`` makes its JSON-length header lie."""
    body, headers = binary_media_request(items)
    length = "inference-header-content-length"
    return body, {**headers, length: str(int(headers[length]) + json_length_delta)}


def _json(inputs: list[dict]) -> bytes:
    return json.dumps({"inputs": inputs}).encode()


BAD_REQUESTS = {
    "wrong shape": (
        VISION_MODEL,
        lambda: _json([{"name": "images", "shape": [1, 3, 10, 10], "datatype": "FP32", "data": [0.0] * 300}]),
        400,
        "must have shape [N, 3,",
    ),
    "wrong dtype": (
        VISION_MODEL,
        lambda: _json([{"name": "media", "shape": [1], "datatype": "INT32", "data": [1]}]),
        400,
        "datatype INT32 is not supported",
    ),
    "data that does not fill the shape": (
        VISION_MODEL,
        lambda: _json([{"name": "media", "shape": [2], "datatype": "BYTES", "data": ["aGVsbG8="]}]),
        400,
        "does not match shape [2]",
    ),
    "not an image": (
        VISION_MODEL,
        lambda: _base64_json([b"these bytes are not a JPEG"]),
        400,
        "image bytes could not be decoded",
    ),
    "not audio": (
        AUDIO_MODEL,
        lambda: _base64_json(_offline_frames(1)),
        400,
        "audio bytes could not be decoded",
    ),
    "bad base64": (
        VISION_MODEL,
        lambda: _json([{"name": "media", "shape": [1], "datatype": "BYTES", "data": ["@@ not base64 @@"]}]),
        400,
        "must be base64",
    ),
    "two inputs": (
        VISION_MODEL,
        lambda: _json([{"name": "media", "shape": [1], "datatype": "BYTES", "data": ["aGk="]}] * 2),
        400,
        "exactly one input",
    ),
    "not JSON": (VISION_MODEL, lambda: b"{this is not json", 422, "JSON decode error"),
    "body over the limit": (
        VISION_MODEL,
        lambda: _base64_json([os.urandom(MAX_PAYLOAD + 512 * 1024)]),
        413,
        "exceeds the limit",
    ),
    "element over the limit": (
        VISION_MODEL,
        lambda: _binary_body([os.urandom(MAX_PAYLOAD + 1)]),
        413,
        "exceeds the limit of 2097152 bytes",
    ),
    "binary header longer than the body": (
        VISION_MODEL,
        lambda: _binary_body([b"abc"], json_length_delta=10_000),
        400,
        "does not fit a body",
    ),
    "unknown model": ("no-such-model", lambda: _base64_json([b"x"]), 404, "does not exist"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_request_gets_a_4xx_with_a_clear_message(server, case):
    model, build, status, message = BAD_REQUESTS[case]
    body = build()
    body, headers = body if isinstance(body, tuple) else (body, {})
    got, answer = _post(server, model, body, headers)
    assert got == status, answer
    assert message in json.dumps(answer), answer


def test_server_is_healthy_after_the_bad_requests(server):
    assert _status(server, "/v2/health/live") == 200
    assert all(_status(server, f"/v2/models/{m}/ready") == 200 for m in (VISION_MODEL, AUDIO_MODEL))
    _, boxes = _triton(server, VISION_MODEL, _offline_frames(1), binary=True)
    assert len(boxes) == 1
    metrics = urllib.request.urlopen(f"http://{server.url}/metrics", timeout=10).read().decode()
    assert 'fieldstream_serving_rejected_total{model="vision-detector",reason="too_large"}' in metrics
    assert "fieldstream_serving_stage_ms_bucket" in metrics


def _readme_block(language: str, containing: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)
    return next(b for b in blocks if containing in b)


def test_readme_finds_the_stacks_server(settings):
    script = _readme_block("bash", "stack status --json") + 'echo "$URL"\n'
    env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(settings.data_dir)}
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    with urllib.request.urlopen(f"{out.stdout.strip()}/v2/health/live", timeout=10) as resp:
        assert json.loads(resp.read()) == {"live": True}  # the server `stack up` started


def test_readme_curl_example(server, tmp_path):
    frame = _offline_frames(1)[0]
    (tmp_path / "frame.jpg").write_bytes(frame)
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _readme_block("bash", "request.json")],
        cwd=tmp_path,
        env={**os.environ, "URL": f"http://{server.url}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    version, [expected] = _triton(server, VISION_MODEL, [frame], binary=True)
    assert answer["model_version"] == version
    _same_boxes(answer["boxes"], expected)


def test_readme_tritonclient_example(server, tmp_path):
    frames = _offline_frames(2)
    for i, frame in enumerate(frames, 1):
        (tmp_path / f"frame{i}.jpg").write_bytes(frame)
    code = _readme_block("python", "tritonclient").replace("127.0.0.1:8080", server.url)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    first, *lists = out.stdout.strip().splitlines()
    version, expected = _triton(server, VISION_MODEL, frames, binary=True)
    assert first == f"model_version {version}"
    for printed, boxes in zip(lists, expected, strict=True):
        _same_boxes(ast.literal_eval(printed), boxes)


def test_promotion_swaps_the_served_version_without_failing_a_request(server, settings, tmp_path):
    import mlflow

    registry = ModelRegistry(settings.mlflow_tracking_uri)
    old = registry.by_alias(VISION_MODEL, CHAMPION).version
    challenger = registry.by_alias(VISION_MODEL, CHALLENGER)
    downloaded = registry.download(VISION_MODEL, old, tmp_path / "dl")
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_experiment("test-serving")
    with mlflow.start_run(run_name="same-weights-new-version"):
        new = registry.log_and_register(
            VISION_MODEL, downloaded.onnx_path, downloaded.card, int8_path=downloaded.int8_path
        ).version
    frames = _offline_frames(1)
    seen: list[str] = []
    failures: list[str] = []
    stop_requests = threading.Event()

    def keep_asking() -> None:  # a client that never stops while the version changes
        while not stop_requests.is_set():
            try:
                seen.append(_triton(server, VISION_MODEL, frames, binary=True)[0])
            except Exception as exc:
                failures.append(repr(exc))

    def wait_for(version: str, timeout_s: float = 60) -> float:
        t0 = time.monotonic()
        while not (seen and seen[-1] == version):
            assert time.monotonic() - t0 < timeout_s, f"still serving {seen[-1:]} after {timeout_s} s"
            time.sleep(0.2)
        return time.monotonic() - t0

    asking = threading.Thread(target=keep_asking, daemon=True)
    asking.start()
    promoted = False
    try:
        wait_for(old)
        registry.promote(VISION_MODEL, new, "test: the server swaps on promotion")
        promoted = True
        publish_model_event(settings, model_event("promoted", VISION_MODEL, new, alias=CHAMPION))
        swap_s = wait_for(new)
        assert _get(server, f"/v2/models/{VISION_MODEL}")["versions"] == [new]
        registry.rollback(VISION_MODEL, "test: back to the session's champion")
        promoted = False
        publish_model_event(settings, model_event("rolled_back", VISION_MODEL, old, alias=CHAMPION))
        wait_for(old)
    finally:
        stop_requests.set()
        asking.join(60)
        if promoted:
            registry.rollback(VISION_MODEL, "test cleanup")
            publish_model_event(settings, model_event("rolled_back", VISION_MODEL, old, alias=CHAMPION))
        if challenger is not None:
            registry.client.set_registered_model_alias(VISION_MODEL, CHALLENGER, challenger.version)
    assert failures == []
    changes = [v for i, v in enumerate(seen) if i == 0 or seen[i - 1] != v]
    assert changes == [old, new, old], changes  # old until the swap, new until the rollback, no flapping
    assert swap_s < 60
