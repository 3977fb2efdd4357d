"""The demo's stages, each a small function of the run, in the order a new user would do them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import psycopg2

from app.demo.background import Background
from fieldstream.contracts import decode_message
from fieldstream.kafka.clients import new_consumer, new_producer
from fieldstream.model_names import AUDIO_MODEL, CHAMPION, VISION_MODEL
from fieldstream.settings import Settings
from fieldstream.topics import DEADLETTER, DETECTIONS_AUDIO, DETECTIONS_VISION, FRAMES_RAW, LABELS

#: Small training runs for a first demo when nothing is promoted yet (minutes on 2 cores).
BOOTSTRAP_TRAINING = {
    "audio": ["--epochs", "6", "--train-size", "480", "--heldout-size", "120", "--batch-size", "32"],
    "vision": ["--epochs", "6", "--train-size", "240", "--heldout-size", "60", "--batch-size", "16"],
}


@dataclass
class DemoRun:
    settings: Settings
    frames: int
    chunks: int
    run_id: str = field(default_factory=lambda: time.strftime("%H%M%S"))
    background: Background | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        print(f"  {line}", flush=True)

    def cli(self, *args: str, timeout_s: float = 1800) -> subprocess.CompletedProcess:
        env_args = ["--data-dir", str(self.settings.data_dir)] if args[0] == "produce" else []
        return subprocess.run(
            [sys.executable, "-m", "app", *args, *env_args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=_env(self.settings),
        )

    @property
    def boom_prefix(self) -> str:
        return f"demo-boom-{self.run_id}"

    @property
    def rec_prefix(self) -> str:
        return f"demo-rec-{self.run_id}"


def _env(settings: Settings) -> dict[str, str]:
    import os

    return {**os.environ, "FIELDSTREAM_DATA_DIR": str(settings.data_dir), "FIELDSTREAM_LOG_LEVEL": "warning"}


def ensure_models(run: DemoRun) -> None:
    """Champions for both models: kept when there are some, else trained small and promoted."""
    from model_contract.registry import ModelRegistry

    registry = ModelRegistry(run.settings.mlflow_tracking_uri)
    for task, name in (("audio", AUDIO_MODEL), ("vision", VISION_MODEL)):
        champion = registry.by_alias(name, CHAMPION)
        if champion is not None:
            run.say(f"{name}: champion is version {champion.version}")
            continue
        run.say(
            f"{name}: no champion yet, training a small one (a few minutes; `fieldstream train {task}`"
            " trains the full one)"
        )
        out = run.cli("train", task, "--json", "--no-gate", *BOOTSTRAP_TRAINING[task])
        if out.returncode != 0:
            raise SystemExit(f"training {task} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout[out.stdout.index("{") :])
        registry.promote(name, result["version"], "demo bootstrap: small model, below the production gate")
        metrics = ", ".join(f"{k} {v:.3f}" for k, v in result["metrics"].items() if "/" not in k)
        run.say(
            f"{name}: version {result['version']} trained in {result['train_seconds']:.0f} s ({metrics}),"
            " promoted for the demo"
        )


def start_services(run: DemoRun) -> None:
    """The PyFlink feature job, the history sink and one worker per model, in the background."""
    run.background = bg = Background(run.settings.data_dir)
    bg.start("features", "features", "run", health_flag="--health-port")
    bg.start("history-sink", "history", "sink", health_flag="--health-port")
    bg.start("worker-vision", "worker", "vision")
    bg.start("worker-audio", "worker", "audio")
    for name in ("history-sink", "worker-vision", "worker-audio", "features"):
        ok = bg.wait_ready(name)
        pid, port = bg.started[name]
        run.say(
            f"{name}: {'ready' if ok else 'NOT ready'} (pid {pid}, http://127.0.0.1:{port}/metrics)"
            + ("" if ok else f" — see {run.settings.data_dir}/logs/demo-{name}.log")
        )


def publish_simulated(run: DemoRun) -> None:
    """Two boom cameras and two acoustic recorders publish through ``fieldstream produce``."""
    for args in (
        ["frames", "--devices", "2", "--device-prefix", run.boom_prefix, "--count", str(run.frames)],
        [
            "audio",
            "--devices",
            "2",
            "--device-prefix",
            run.rec_prefix,
            "--chunks-per-session",
            str(run.chunks),
        ],
    ):
        out = run.cli("produce", *args, "--quiet")
        run.say(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"produce {args[0]} done")
    broken = f"{run.boom_prefix}-broken"
    producer = new_producer(run.settings)
    producer.produce(
        FRAMES_RAW,
        key=broken.encode(),
        value=b"\xff\xd8\xffnot-really-a-jpeg",
        headers=[
            ("schema", b"frame.v1"),
            ("device_id", broken.encode()),
            ("frame_id", b"x"),
            ("content_type", b"image/jpeg"),
        ],
    )  # no captured_at: a contract violation
    producer.flush(30)
    run.say("and one malformed frame (no captured_at header)")


def follow_detections(run: DemoRun, timeout_s: float = 300) -> None:
    """Read detections, labels and dead letters of this run; report counts, latency and quality."""
    consumer = new_consumer(run.settings, f"demo-read-{run.run_id}")
    consumer.subscribe([DETECTIONS_VISION, DETECTIONS_AUDIO, LABELS, DEADLETTER])
    vision: dict[str, dict] = {}
    audio: dict[str, dict] = {}
    labels: dict[str, dict] = {}
    dead = 0
    want_frames, want_chunks = 2 * run.frames, 2 * run.chunks
    deadline = time.monotonic() + timeout_s
    while (len(vision) < want_frames or len(audio) < want_chunks or dead < 1) and time.monotonic() < deadline:
        gone = run.background.exited() if run.background else []
        if gone:
            run.say(
                f"stopped waiting: {', '.join(gone)} exited (logs in {run.settings.data_dir}/logs/demo-*.log)"
            )
            break
        msg = consumer.poll(0.5)
        if msg is None or msg.error() or run.run_id not in (msg.key() or b"").decode(errors="replace"):
            continue
        if msg.topic() == DEADLETTER:
            dead += 1
            continue
        body = decode_message(msg.topic() or "", msg.value())
        if msg.topic() == LABELS:
            labels[body.get("frame_id") or body.get("chunk_id")] = body
        elif msg.topic() == DETECTIONS_VISION:
            vision[body["frame_id"]] = body
        else:
            audio[body["chunk_id"]] = body
    consumer.close()
    run.counts = {"frames": len(vision), "chunks": len(audio), "dead": dead}
    lat = np.array([d["latency_ms"]["end_to_end"] for d in [*vision.values(), *audio.values()]] or [np.nan])
    run.say(
        f"{len(vision)}/{want_frames} frames and {len(audio)}/{want_chunks} chunks got exactly one detection"
        f" each; capture -> detection p50 {np.nanpercentile(lat, 50):.0f} ms, p95"
        f" {np.nanpercentile(lat, 95):.0f} ms (the backlog of a burst, not the steady state)"
    )
    run.say(f"{dead} malformed record in {DEADLETTER}")
    _report_quality(run, vision, audio, labels)


def _report_quality(run: DemoRun, vision: dict, audio: dict, labels: dict) -> None:
    from training.metrics.detection import ImageDetections, ImageGroundTruth, mean_average_precision

    ids = [i for i in vision if i in labels]
    if ids:

        def arr(boxes: list, key: str) -> np.ndarray:
            return np.array([b[key] for b in boxes])

        preds = [
            ImageDetections(
                arr(vision[i]["boxes"], "xyxy").reshape(-1, 4),
                arr(vision[i]["boxes"], "score"),
                arr(vision[i]["boxes"], "class_id"),
            )
            for i in ids
        ]
        truth = [
            ImageGroundTruth(
                arr(labels[i]["boxes"], "xyxy").reshape(-1, 4), arr(labels[i]["boxes"], "class_id")
            )
            for i in ids
        ]
        m = mean_average_precision(preds, truth, 2)
        weeds = sum(b["class_id"] == 1 for i in ids for b in vision[i]["boxes"])
        run.say(
            f"vision vs ground truth on {len(ids)} frames: mAP@0.5 {m.map_50:.3f}; {weeds} weeds detected"
        )
    chunk_ids = [i for i in audio if i in labels]
    if chunk_ids:
        tp = sum(len({s["id"] for s in audio[i]["species"]} & set(labels[i]["species"])) for i in chunk_ids)
        predicted = sum(len(audio[i]["species"]) for i in chunk_ids)
        actual = sum(len(labels[i]["species"]) for i in chunk_ids)
        run.say(
            f"audio vs ground truth on {len(chunk_ids)} chunks: precision {tp / max(predicted, 1):.2f},"
            f" recall {tp / max(actual, 1):.2f} at the default 0.5 threshold"
        )


def show_history(run: DemoRun, timeout_s: float = 90) -> None:
    """What landed in PostgreSQL (features, archive rows, detections) and in Redis."""
    from feature_store.online.redis_store import RedisOnlineStore

    deadline = time.monotonic() + timeout_s
    like = f"%{run.run_id}%"
    counts: tuple = ()
    while time.monotonic() < deadline:
        with psycopg2.connect(run.settings.postgres_dsn) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM frame_features WHERE device_id LIKE %(d)s),"
                " (SELECT count(*) FROM audio_features WHERE device_id LIKE %(d)s),"
                " (SELECT count(*) FROM frames WHERE device_id LIKE %(d)s),"
                " (SELECT count(*) FROM detections_vision WHERE device_id LIKE %(d)s),"
                " (SELECT count(*) FROM labels WHERE device_id LIKE %(d)s)",
                {"d": like},
            )
            counts = cur.fetchone() or ()
        if counts and counts[0] >= 2 * run.frames and counts[3] >= run.counts.get("frames", 0):
            break
        time.sleep(2)
    run.say(
        f"PostgreSQL: {counts[0]} frame and {counts[1]} chunk feature rows, {counts[2]} archived frames,"
        f" {counts[3]} vision detections, {counts[4]} labels"
    )
    row = RedisOnlineStore.from_url(run.settings.redis_url).read_latest(
        "frames", "device", f"{run.boom_prefix}-0"
    )
    if row is not None:
        shown = ", ".join(
            f"{k} {row.features[k]:.3f}" for k in ("vegetation_fraction", "sharpness") if k in row.features
        )
        run.say(f"Redis: latest features of {run.boom_prefix}-0: {shown}")
    out = run.cli("history", "weed-density", "--device", f"{run.boom_prefix}-0", "--format", "table")
    for line in out.stdout.strip().splitlines()[:6]:
        run.say(line)


def stop_services(run: DemoRun) -> None:
    if run.background is not None:
        run.background.stop_all()
    run.say("feature job, history sink and workers stopped (the stack keeps running)")


STAGES: list[tuple[str, Callable[[DemoRun], None]]] = [
    ("models (MLflow registry)", ensure_models),
    ("stream jobs and inference workers", start_services),
    ("simulated devices publish", publish_simulated),
    ("detections", follow_detections),
    ("history and online store", show_history),
]
