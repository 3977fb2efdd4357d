"""Inference workers against real Kafka, MLflow and Redis with a model trained in the test session:
exactly one detection per input (also across kill -9 and model swaps), shared partitions, dead letters,
and detections as good as the model measured offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import numpy as np
import pytest
from conftest import reported_metrics
from kafka_reading import consume_until
from simulated_records import publish_chunks, publish_frames

from fieldstream.contracts import decode_message, header_value
from fieldstream.kafka.admin import commit_group_at_end
from fieldstream.topics import AUDIO_RAW, DEADLETTER, DETECTIONS_AUDIO, DETECTIONS_VISION, FRAMES_RAW
from inference_workers.runtime import load_runtime
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.loop import InferenceWorker
from training.metrics.detection import ImageDetections, ImageGroundTruth, mean_average_precision


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _detections(consumer_factory, topic: str, ids: set[str], key: str, timeout_s: float = 90) -> list[dict]:
    consumer = consumer_factory(topic)
    seen: list[dict] = []
    read = 0  # messages decoded so far: each is decoded once (the topic holds every earlier test's)

    def done(msgs):
        nonlocal read
        seen.extend(d for d in (decode_message(topic, m.value()) for m in msgs[read:]) if d[key] in ids)
        read = len(msgs)
        return {d[key] for d in seen} >= ids

    consume_until(consumer, done, timeout_s)
    time.sleep(2)  # anything extra (a duplicate) would show up now
    for msg in consume_until(consumer, lambda _m: False, 2):
        d = decode_message(topic, msg.value())
        if d[key] in ids:
            seen.append(d)
    return seen


def _new_group(settings, name: str, topic: str) -> str:
    """A consumer group that starts at the current end of ``topic``: its worker reads only this test's
    records, not everything earlier tests left in the shared topic."""
    commit_group_at_end(settings, name, [topic])
    return name


def _worker(settings, kind: str, group: str, **config) -> InferenceWorker:
    worker = InferenceWorker(settings, WorkerConfig(kind=kind, group_id=group, worker_id=_uid(), **config))
    worker.start()
    return worker


def _run_in_thread(worker: InferenceWorker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def test_exactly_one_detection_per_record_at_the_models_quality(
    settings, producer, consumer_factory, trained_models
):
    tag = _uid()
    groups = {
        "vision": _new_group(settings, f"wq-vision-{tag}", FRAMES_RAW),
        "audio": _new_group(settings, f"wq-audio-{tag}", AUDIO_RAW),
    }
    frames = publish_frames(producer, [f"wq-boom-{tag}-{i}" for i in range(2)], 12, seed=500)
    chunks = publish_chunks(producer, [f"wq-rec-{tag}-{i}" for i in range(2)], 6, seed=500)
    for kind in ("vision", "audio"):
        worker = _worker(settings, kind, groups[kind])
        try:
            worker.run(idle_exit_s=8)
        finally:
            worker.close()
    vision = _detections(consumer_factory, DETECTIONS_VISION, set(frames.ids), "frame_id")
    audio = _detections(consumer_factory, DETECTIONS_AUDIO, set(chunks.ids), "chunk_id")
    assert Counter(d["frame_id"] for d in vision) == Counter(frames.ids)  # exactly one each
    assert Counter(d["chunk_id"] for d in audio) == Counter(chunks.ids)
    version = trained_models["vision"]["version"]
    assert {d["model"]["version"] for d in vision} == {version}
    assert all(d["produced_at"] >= d["captured_at"] and d["latency_ms"]["infer"] > 0 for d in vision)

    # The worker's detections score exactly what the model scores offline on the same frames (on a
    # CPU both run the version's int8 variant when training shipped one) ...
    runtime = load_runtime(f"models:/vision-detector/{version}", settings.mlflow_tracking_uri)
    fp32 = load_runtime(f"models:/vision-detector/{version}", settings.mlflow_tracking_uri, precision="fp32")
    assert fp32.precision == "fp32"
    by_id = {d["frame_id"]: d for d in vision}
    truth = [
        ImageGroundTruth(
            np.array([[b.x1, b.y1, b.x2, b.y2] for b in frames.truth[i]]).reshape(-1, 4),
            np.array([b.class_id for b in frames.truth[i]]),
        )
        for i in frames.ids
    ]

    def as_detections(boxes):
        return ImageDetections(
            np.array([b["xyxy"] for b in boxes]).reshape(-1, 4),
            np.array([b["score"] for b in boxes]),
            np.array([b["class_id"] for b in boxes]),
        )

    worker_map = mean_average_precision(
        [as_detections(by_id[i]["boxes"]) for i in frames.ids], truth, 2
    ).map_50
    offline = runtime.predict([runtime.decode(frames.media[i]) for i in frames.ids]).items
    offline_map = mean_average_precision([as_detections(b) for b in offline], truth, 2).map_50
    assert worker_map == pytest.approx(offline_map, abs=1e-9)
    # ... and that is the quality training measured on its own held-out frames (other seeds).
    measured = reported_metrics(trained_models["vision"], runtime.precision)["map50"]
    assert worker_map > 0.2 and abs(worker_map - measured) < 0.25, (worker_map, measured)

    audio_rt = load_runtime(
        f"models:/audio-classifier/{trained_models['audio']['version']}", settings.mlflow_tracking_uri
    )
    offline_species = audio_rt.predict([audio_rt.decode(chunks.media[i]) for i in chunks.ids]).items
    worker_species = {d["chunk_id"]: {s["id"] for s in d["species"]} for d in audio}
    assert [worker_species[i] for i in chunks.ids] == [{s["id"] for s in o} for o in offline_species]


def test_malformed_record_goes_to_deadletter_and_the_worker_goes_on(
    settings, producer, consumer_factory, trained_models
):
    tag = _uid()
    group = _new_group(settings, f"dl-{tag}", FRAMES_RAW)
    bad_device = f"bad-{tag}"
    producer.produce(
        FRAMES_RAW,
        key=bad_device.encode(),
        value=b"\xff\xd8\xffbroken",
        headers=[
            ("schema", b"frame.v1"),
            ("device_id", bad_device.encode()),
            ("frame_id", b"b1"),
            ("captured_at", b"1"),
            ("content_type", b"image/jpeg"),
        ],
    )
    good = publish_frames(producer, [f"ok-{tag}"], 3, seed=900)
    future = publish_frames(producer, [f"ahead-{tag}"], 1, seed=901, captured_at_offset_ms=60_000)
    dead = consumer_factory(DEADLETTER)
    worker = _worker(settings, "vision", group)
    try:
        worker.run(idle_exit_s=6)
    finally:
        worker.close()
    [msg] = [
        m
        for m in consume_until(dead, lambda ms: any(m.key() == bad_device.encode() for m in ms))
        if m.key() == bad_device.encode()
    ]
    assert header_value(msg.headers(), "error").startswith("image bytes could not be decoded")
    assert header_value(msg.headers(), "source_topic") == FRAMES_RAW
    assert len(_detections(consumer_factory, DETECTIONS_VISION, set(good.ids), "frame_id")) == 3
    # a device clock a minute ahead: a detection all the same, with no negative latency
    [ahead] = _detections(consumer_factory, DETECTIONS_VISION, set(future.ids), "frame_id")
    assert ahead["latency_ms"]["end_to_end"] == 0


def test_two_workers_in_one_group_share_partitions(settings, producer, consumer_factory, trained_models):
    tag = _uid()
    group = _new_group(settings, f"pair-{tag}", FRAMES_RAW)
    workers = [_worker(settings, "vision", group), _worker(settings, "vision", group)]
    threads = [_run_in_thread(w) for w in workers]
    deadline = time.monotonic() + 60  # both in the group, the partitions split between them
    while not all(w.assignment() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    owned = [set(w.assignment()) for w in workers]
    assert owned[0] and owned[1] and not owned[0] & owned[1]
    frames = publish_frames(producer, [f"pair-{tag}-{i}" for i in range(8)], 3, seed=700)
    detections = _detections(consumer_factory, DETECTIONS_VISION, set(frames.ids), "frame_id")
    for w in workers:
        w.stop()
    for t in threads:
        t.join(30)
    for w in workers:
        w.close()
    assert Counter(d["frame_id"] for d in detections) == Counter(frames.ids)
    assert all(w.processed > 0 for w in workers), [w.processed for w in workers]


@pytest.mark.slow
def test_kill_9_midstream_then_another_worker_still_exactly_once(
    settings, producer, consumer_factory, trained_models, local_stack
):
    tag = _uid()
    group = _new_group(settings, f"kill-{tag}", FRAMES_RAW)
    frames = publish_frames(producer, [f"kill-{tag}-{i}" for i in range(4)], 30, seed=300)
    env = {
        **os.environ,
        "FIELDSTREAM_DATA_DIR": str(local_stack.data_dir),
        "FIELDSTREAM_LOG_LEVEL": "warning",
    }
    cmd = [
        sys.executable,
        "-m",
        "app",
        "worker",
        "vision",
        "--group",
        group,
        "--metrics-port",
        "0",
        "--max-batch",
        "4",
    ]
    first = subprocess.Popen(
        [*cmd, "--worker-id", "a"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    progress = consumer_factory(DETECTIONS_VISION)
    consume_until(
        progress, lambda ms: sum(1 for m in ms if b"kill-" + tag.encode() in (m.key() or b"")) >= 20, 180
    )
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    second = subprocess.Popen(
        [*cmd, "--worker-id", "b"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        detections = _detections(
            consumer_factory, DETECTIONS_VISION, set(frames.ids), "frame_id", timeout_s=240
        )
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0
    assert Counter(d["frame_id"] for d in detections) == Counter(frames.ids)


@pytest.mark.slow
def test_promotion_midstream_every_detection_names_its_version(
    settings, producer, consumer_factory, trained_models, tmp_path
):
    import mlflow

    from fieldstream.model_names import CHAMPION, VISION_MODEL
    from model_contract.registry import ModelRegistry
    from training.events import model_event, publish_model_event

    tag = _uid()
    registry = ModelRegistry(settings.mlflow_tracking_uri)
    old = registry.by_alias(VISION_MODEL, CHAMPION).version
    worker = _worker(settings, "vision", _new_group(settings, f"swap-{tag}", FRAMES_RAW))
    thread = _run_in_thread(worker)
    assert worker.model.watcher is not None and worker.model.watcher.ready.wait(30)
    before = publish_frames(producer, [f"swap-{tag}-a"], 10, seed=11)
    downloaded = registry.download(VISION_MODEL, old, tmp_path / "old")
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_experiment("test-swap")
    with mlflow.start_run():
        new = registry.log_and_register(
            VISION_MODEL, downloaded.onnx_path, downloaded.card, int8_path=downloaded.int8_path
        ).version
    registry.promote(VISION_MODEL, new, "test: swap mid-stream")
    publish_model_event(settings, model_event("promoted", VISION_MODEL, new, alias=CHAMPION))
    during = publish_frames(producer, [f"swap-{tag}-b"], 10, seed=12)
    deadline = time.monotonic() + 120
    while worker.runtime.version != new and time.monotonic() < deadline:
        time.sleep(0.5)
    after = publish_frames(producer, [f"swap-{tag}-c"], 10, seed=13)
    ids = set(before.ids) | set(during.ids) | set(after.ids)
    detections = _detections(consumer_factory, DETECTIONS_VISION, ids, "frame_id", timeout_s=120)
    worker.stop()
    thread.join(30)
    worker.close()
    registry.rollback(VISION_MODEL, "test: restore the fixture's champion")
    assert Counter(d["frame_id"] for d in detections) == Counter(ids)  # none lost or doubled
    versions = {d["frame_id"]: d["model"]["version"] for d in detections}
    assert set(versions.values()) == {old, new}
    assert {versions[i] for i in after.ids} == {new}
    assert {versions[i] for i in before.ids} <= {old, new}
