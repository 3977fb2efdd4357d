"""Benchmark the producers: frames/s and MB/s from one process to the local broker, and audio speed.

Prints one JSON object. Targets (issue #3): >= 300 frames/s of 640x480 JPEG from one producer
command (``fieldstream produce frames``); audio generation + publish >= 200x real time. Figures,
each through the same code the CLI runs (``producers.simulated`` + ``MediaPublisher`` +
``publish_all``, labels included):

- ``frames.render_only``: simulator render + JPEG encode on one core, no Kafka, in steady state
  (``setup_s``: building the soil bank and rendering every plant sprite, done first).
- ``frames.publish_only``: pre-rendered frame records (+ labels) published and flushed.
- ``frames.render_publish``: render + encode + publish + flush as the CLI runs it, with its default
  number of render worker processes for a run that long (``render_workers``: one per CPU, at most
  4, on runs of 1000 frames or more; ``--render-workers`` overrides it);
  ``steady`` leaves out the first 100 frames (worker start-up: imports, soil and sprite banks;
  the workers' first blocks), ``total`` is the whole run.
- ``frames.render_publish_no_labels``: the same without ``labels.v1`` (what building, validating
  and sending one label per frame costs). Both runs start cold: every run has fresh workers.
- ``audio``: soundscape synthesis + WAV + publish + flush, as a multiple of real time.

    .venv/bin/python benchmarks/producers.py [--frames 3000] [--render-frames 4000] [--chunks 240]
        [--render-workers N] [--kafka-bootstrap HOST:PORT]   # default: a private stack in a temp folder
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file (named like the
# package) would shadow `producers`.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from app.stack.local_stack import LocalStack
from fieldstream.modality import AUDIO, AUDIO_CHUNK_SECONDS, VISION
from fieldstream.settings import MB, load_settings
from producers.device_runs import AudioRun, FrameRun
from producers.device_simulators import CameraSimulators, frame_outgoing
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg
from producers.publish_loop import publish_all
from producers.publisher import MediaPublisher
from producers.records import Outgoing
from producers.render_workers import default_render_workers
from producers.simulated import simulated_records

TARGET_FRAMES_PER_S = 300.0
TARGET_AUDIO_X_REALTIME = 200.0
WARMUP_FRAMES = 20
PIPELINE_WARMUP_FRAMES = 100  # render_publish: `steady` starts when the render workers are in stride


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def render_only(frames: int) -> dict:
    t0 = time.perf_counter()
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="bench-render", seed=1))
    sim.prepare()
    setup = time.perf_counter() - t0
    for frame in sim.frames(WARMUP_FRAMES):
        encode_jpeg(frame.image, 85)
    render = encode = 0.0
    size = 0
    for index in range(WARMUP_FRAMES, WARMUP_FRAMES + frames):
        t1 = time.perf_counter()
        frame = sim.frame(index)
        t2 = time.perf_counter()
        size += len(encode_jpeg(frame.image, 85))
        render += t2 - t1
        encode += time.perf_counter() - t2
    total = render + encode
    return {
        "frames": frames,
        "seconds": round(total, 3),
        "frames_per_s": _rate(frames, total),
        "ms_render": round(1000 * render / frames, 2),
        "ms_jpeg": round(1000 * encode / frames, 2),
        "jpeg_kb": round(size / frames / 1024, 1),
        "setup_s": round(setup, 2),
    }


def publish_only(settings, frames: int, distinct: int = 60) -> dict:
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="bench-publish", seed=2))
    records = [frame_outgoing(f, 85, True, settings.max_payload_bytes) for f in sim.frames(distinct)]
    source = itertools.islice(itertools.cycle(records), frames)
    summary = publish_all("bench-publish", source, MediaPublisher(settings))
    media = summary.stats.topics[VISION.raw_topic]
    return {
        "frames": media.sent,
        "labels": summary.sent - media.sent,
        "failed": summary.failed,
        "seconds": round(summary.seconds, 3),
        "frames_per_s": _rate(media.sent, summary.seconds),
        "mb_per_s": round(summary.stats.bytes / MB / summary.seconds, 2),
        "backpressure_waits": summary.stats.backpressure_waits,
    }


def render_publish(settings, frames: int, workers: int, labels: bool = True) -> dict:
    marks: dict[str, float] = {}

    def timed(source: Iterator[Outgoing]) -> Iterator[Outgoing]:
        for i, item in enumerate(source):
            if i == PIPELINE_WARMUP_FRAMES:
                marks["steady"] = time.monotonic()
            yield item

    run = FrameRun(
        devices=1,
        device_prefix="bench-rp",
        count=frames + PIPELINE_WARMUP_FRAMES,
        seed=3,
        labels=labels,
        render_workers=workers,
    )
    start = time.monotonic()
    if workers == 1:  # in process: build the banks first, as every pool worker does, so `steady` is
        CameraSimulators(run.started()).simulator(0).prepare()  # steady and both runs start alike
    summary = publish_all("bench-render-publish", timed(simulated_records(run)), MediaPublisher(settings))
    end = time.monotonic()
    media = summary.stats.topics[VISION.raw_topic]
    return {
        "render_workers": workers,
        "frames": media.sent,
        "failed": summary.failed,
        "total": {"seconds": round(end - start, 3), "frames_per_s": _rate(media.sent, end - start)},
        "steady": {
            "seconds": round(end - marks["steady"], 3),
            "frames_per_s": _rate(frames, end - marks["steady"]),
        },
        "mb_per_s_total": round(summary.stats.bytes / MB / (end - start), 2),
    }


def audio(settings, chunks: int) -> dict:
    run = AudioRun(
        devices=1, device_prefix="bench-audio", sessions=max(1, chunks // 12), chunks_per_session=12, seed=4
    )
    summary = publish_all("bench-audio", simulated_records(run), MediaPublisher(settings))
    sent = summary.stats.topics[AUDIO.raw_topic].sent
    x_realtime = sent * AUDIO_CHUNK_SECONDS / summary.seconds
    return {
        "chunks": sent,
        "failed": summary.failed,
        "seconds": round(summary.seconds, 3),
        "chunks_per_s": _rate(sent, summary.seconds),
        "mb_per_s": round(summary.stats.bytes / MB / summary.seconds, 2),
        "x_real_time": round(x_realtime, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=3000, help="frames for publish-only (default 3000)")
    parser.add_argument(
        "--render-frames", type=int, default=4000, help="frames for render figures (default 4000)"
    )
    parser.add_argument("--chunks", type=int, default=240, help="audio chunks (default 240 = 20 min)")
    parser.add_argument(
        "--render-workers",
        type=int,
        default=None,
        help="render worker processes for render_publish (default: the CLI's for that many frames)",
    )
    parser.add_argument("--kafka-bootstrap", default=None, help="use this broker instead of a private stack")
    args = parser.parse_args()
    stack = None
    if args.kafka_bootstrap:
        settings = load_settings({}, kafka_bootstrap=args.kafka_bootstrap)
    else:
        stack = LocalStack(Path(tempfile.mkdtemp(prefix="fs-bench-producers-")))
        stack.up(timeout_s=180)
        settings = load_settings({}, data_dir=stack.data_dir)
    workers = args.render_workers or default_render_workers(args.render_frames + PIPELINE_WARMUP_FRAMES)
    try:
        rendered = render_only(args.render_frames)
        published = publish_only(settings, args.frames)
        both = render_publish(settings, args.render_frames, workers)
        no_labels = render_publish(settings, args.render_frames, workers, labels=False)
        sound = audio(settings, args.chunks)
    finally:
        if stack is not None:
            stack.down()
            shutil.rmtree(stack.data_dir, ignore_errors=True)
    best_frames = both["steady"]["frames_per_s"]
    print(
        json.dumps(
            {
                "benchmark": "producers",
                "cpu_count": os.cpu_count(),
                "image": "640x480 JPEG q85",
                "render_workers": workers,
                "frames": {
                    "render_only": rendered,
                    "publish_only": published,
                    "render_publish": both,
                    "render_publish_no_labels": no_labels,
                },
                "frames_target_per_s": TARGET_FRAMES_PER_S,
                "publish_only_ratio_to_target": round(published["frames_per_s"] / TARGET_FRAMES_PER_S, 3),
                "render_publish_ratio_to_target": round(best_frames / TARGET_FRAMES_PER_S, 3),
                "render_publish_total_ratio_to_target": round(
                    both["total"]["frames_per_s"] / TARGET_FRAMES_PER_S, 3
                ),  # the whole run: worker start-up (a few seconds) included
                "audio": sound,
                "audio_target_x_real_time": TARGET_AUDIO_X_REALTIME,
                "audio_ratio_to_target": round(sound["x_real_time"] / TARGET_AUDIO_X_REALTIME, 3),
                "meets_targets": {
                    "publish_only": published["frames_per_s"] >= TARGET_FRAMES_PER_S,
                    "render_publish": best_frames >= TARGET_FRAMES_PER_S,
                    "audio": sound["x_real_time"] >= TARGET_AUDIO_X_REALTIME,
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
