"""Training from the offline store, end to end: simulated frames and their labels published with
`fieldstream produce frames` to the session's Kafka, written to PostgreSQL and the media archive by
the real feature job (frames + archive) and history sink (labels), snapshotted as of a time T,
trained on (vision, tiny), registered in MLflow with the snapshot's manifest, and loaded back from
``models:/NAME@champion`` to score the snapshot's held-out frames as the trainer did."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg2
import pytest
from conftest import reported_metrics, run_training
from prometheus_client import CollectorRegistry

from fieldstream.model_names import CHAMPION
from fieldstream.topics import LABELS
from stream_jobs.features.launcher import FeatureJobProcess
from stream_jobs.history.metrics import SinkMetrics
from stream_jobs.history.sink import HistorySink, HistorySinkConfig

SUFFIX = uuid.uuid4().hex[:8]
PREFIX = f"snap-{SUFFIX}"
LATE = f"{PREFIX}-late"  # one more camera (LATE-0), published after the snapshot time
DEVICES = [f"{PREFIX}-{i}" for i in range(4)]
MODEL = f"test-vision-{SUFFIX}"


@pytest.fixture(scope="module")
def ingestion(settings, tmp_path_factory) -> Iterator[None]:
    """The stream jobs that fill the offline store: the feature job (frames rows + archive; frames
    only) and the history sink (labels), each with its own consumer group."""
    log = tmp_path_factory.mktemp("snapshot-job") / "job.log"
    args = ["--kinds", "frames", "--job-name", PREFIX, "--group-id", PREFIX, "--checkpoint-interval", "2"]
    job = FeatureJobProcess(settings.data_dir, log, args).start(240)
    sink = HistorySink(
        settings,
        HistorySinkConfig(group_id=PREFIX, topics={LABELS: LABELS}),
        SinkMetrics(CollectorRegistry()),
    )
    thread = threading.Thread(target=sink.run, daemon=True)
    thread.start()
    yield
    sink.stop()
    thread.join(30)
    job.stop()


def fieldstream(stack_dir, *args: str) -> str:
    env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(stack_dir), "FIELDSTREAM_LOG_LEVEL": "warning"}
    out = subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, f"fieldstream {' '.join(args)} failed:\n{out.stderr[-3000:]}"
    return out.stdout


def labelled_frames(settings, prefix: str) -> int:
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM frames f JOIN labels l"
            " ON l.item_id = f.frame_id AND l.captured_at = f.captured_at WHERE f.device_id LIKE %s",
            (prefix + "%",),
        )
        return int(cur.fetchone()[0])


def wait_for_rows(settings, prefix: str, expected: int, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while (found := labelled_frames(settings, prefix)) < expected:
        assert time.monotonic() < deadline, f"{found}/{expected} labelled frames of {prefix} in the store"
        time.sleep(1.0)


def snapshot(stack_dir, out, as_of: str) -> dict:
    devices = [a for d in [*DEVICES, f"{LATE}-0"] for a in ("--device", d)]
    args = ["train", "snapshot", "vision", "--out", str(out), "--as-of", as_of, "--heldout-fraction", "0.25"]
    return json.loads(fieldstream(stack_dir, *args, *devices, "--json"))


@pytest.mark.slow
def test_a_model_trained_from_an_offline_store_snapshot_is_registered_and_loads_back(
    ingestion, local_stack, settings, tmp_path
):
    import mlflow

    from feature_store.archive import open_archive
    from inference_workers.runtime import load_runtime
    from model_contract.detections import decode_detections
    from training.metrics.detection import ImageDetections, ImageGroundTruth, mean_average_precision

    stack = local_stack.data_dir
    produce = ["produce", "frames", "--width", "320", "--height", "240", "--quiet", "--json"]
    fieldstream(stack, *produce, "--devices", "4", "--device-prefix", PREFIX, "--count", "40", "--seed", "3")
    wait_for_rows(settings, PREFIX, 160)
    time.sleep(1.0)
    as_of = datetime.now(UTC).isoformat()
    time.sleep(1.0)
    fieldstream(stack, *produce, "--devices", "1", "--device-prefix", LATE, "--count", "10", "--seed", "4")
    wait_for_rows(settings, PREFIX, 170)

    first = snapshot(stack, tmp_path / "snap.json", as_of)
    again = snapshot(stack, tmp_path / "again.json", as_of)
    later = snapshot(stack, tmp_path / "now.json", "now")
    assert (first["items"], first["devices"], later["items"]) == (160, 4, 170)  # T excludes the late camera
    assert again["manifest_sha256"] == first["manifest_sha256"]  # reproducible
    assert later["manifest_sha256"] != first["manifest_sha256"]
    assert first["heldout"] >= 40 and first["train"] >= 40  # whole cameras (one minute each) held out

    result = run_training(
        stack, "vision", "--snapshot", str(tmp_path / "snap.json"), "--epochs", "2", "--batch-size", "16",
        "--model-name", MODEL, "--experiment", f"test-snapshot-{SUFFIX}", "--gate-floor", "0",
    )  # fmt: skip
    assert result["gate"]["passed"] and result["onnx_parity_max_abs_diff"] < 1e-3
    assert result["dataset_manifest_sha256"] == first["manifest_sha256"]
    manifest = json.loads((tmp_path / "snap.json").read_text())
    logged = mlflow.artifacts.download_artifacts(
        run_id=result["run_id"],
        artifact_path="dataset_manifest.json",
        dst_path=str(tmp_path / "logged"),
        tracking_uri=settings.mlflow_tracking_uri,
    )
    assert json.loads(Path(logged).read_text()) == manifest
    tags = mlflow.MlflowClient(settings.mlflow_tracking_uri).get_run(result["run_id"]).data.tags
    assert (
        tags["dataset.manifest_sha256"] == first["manifest_sha256"] and tags["dataset.source"] == "snapshot"
    )

    # models:/NAME@champion, loaded the way the workers load it, on the snapshot's held-out frames
    runtime = load_runtime(f"models:/{MODEL}@{CHAMPION}", settings.mlflow_tracking_uri)
    assert runtime.version == result["version"]
    archive = open_archive(manifest["archive"])
    held = [it for it in manifest["items"] if it["split"] == "heldout"]
    images = [runtime.decode(archive.get(it["media_uri"])) for it in held]
    heat, size, offset = runtime.run(runtime.preprocess(images))
    decoded = decode_detections(heat, size, offset, score_threshold=0.01, nms_iou=0.6)
    names = runtime.spec.class_names
    truths = [
        ImageGroundTruth(
            np.array([b["xyxy"] for b in it["boxes"]], dtype=np.float32).reshape(-1, 4),
            np.array([names.index(b["class_name"]) for b in it["boxes"]], dtype=np.int64),
        )
        for it in held
    ]
    predictions = [ImageDetections(d.boxes, d.scores, d.classes) for d in decoded]
    score = mean_average_precision(predictions, truths, len(names)).map_50
    assert score == pytest.approx(reported_metrics(result, runtime.precision)["map50"], abs=1e-6)
