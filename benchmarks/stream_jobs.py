"""Benchmark the stream jobs: the PyFlink feature job under a paced load, and the history sink.

Feature job: ``--fps`` frames/s (640x480 JPEG, ~54 KB, spread over ``--booms`` devices) plus
``--cps`` soundscape chunks/s (5 s, 32 kHz PCM16 WAV, 320 KB, over ``--recorders`` devices) are
published for ``--seconds`` to ``frames.raw.v1`` / ``audio.raw.v1``, each stamped with
``captured_at`` = its send time. End-to-end lag = the PostgreSQL insert time of the record's row
(``frames.ingested_at`` / ``audio_chunks.ingested_at``, set by the database) minus ``captured_at``.
Sustained throughput = records landed / (last row written - first capture) of the measured load,
which follows a ``--warmup`` load (JIT, code generation, Python workers). CPU per record is that of
the job's own processes (gateway JVM, Python UDF workers, driver) over the measured load.
History sink: ``--history-messages`` vision detections are published first, then the sink drains them;
rows/s = rows upserted / drain time.

Prints one JSON object. Starts its own local stack in a temporary folder unless ``--data-dir`` names
a running one, and stops (and deletes) what it started.

    .venv/bin/python benchmarks/stream_jobs.py [--seconds 60] [--fps 100] [--cps 20] [--parallelism 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import psycopg2
from confluent_kafka import Producer
from prometheus_client import CollectorRegistry

from app.stack.local_stack import LocalStack
from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame, encode_message
from fieldstream.kafka.config import producer_config
from fieldstream.settings import load_settings
from fieldstream.topics import AUDIO_RAW, DETECTIONS_VISION, FRAMES_RAW


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def media_pool(frames: int, chunks: int) -> tuple[list[bytes], list[bytes]]:
    from producers.field_camera import FieldCameraConfig, FieldCameraSimulator
    from producers.soundscape import SoundscapeConfig, SoundscapeSimulator

    cam = FieldCameraSimulator(FieldCameraConfig(device_id="bench", seed=3))
    jpegs = [cam.encode(f) for f in cam.frames(frames)]
    wavs = [
        c.to_wav() for c in SoundscapeSimulator(SoundscapeConfig(device_id="bench", seed=4)).chunks(chunks)
    ]
    return jpegs, wavs


def create_topics(settings, run: str) -> dict[str, str]:
    """Raw topics of this run only (partitions as declared for the real ones), so no backlog is read."""
    from confluent_kafka.admin import AdminClient, NewTopic

    names = {"frames": f"{FRAMES_RAW}.bench-{run}", "audio": f"{AUDIO_RAW}.bench-{run}"}
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    config = {"max.message.bytes": "10485760", "retention.ms": "3600000"}
    new = [NewTopic(names["frames"], 8, 1, config=config), NewTopic(names["audio"], 4, 1, config=config)]
    for future in admin.create_topics(new).values():
        future.result(30)
    return names


def publish_paced(
    settings, args, run: str, topics: dict[str, str], jpegs: list[bytes], wavs: list[bytes], seconds: float
) -> dict[str, float]:
    """Publish at the requested rates for ``seconds``; return what was sent."""
    producer = Producer(producer_config(settings, **{"linger.ms": 2, "queue.buffering.max.kbytes": 262144}))
    t0 = time.time()
    sent_frames = sent_chunks = 0
    while True:
        elapsed = time.time() - t0
        if elapsed >= seconds:
            break
        while sent_frames < int(elapsed * args.fps) + 1:
            device = f"{run}-boom-{sent_frames % args.booms}"
            jpeg = jpegs[sent_frames % len(jpegs)]
            rec = encode_frame(
                FrameRecord(device, f"{run}-f{sent_frames}", int(time.time() * 1000), "image/jpeg", jpeg)
            )
            producer.produce(topics["frames"], key=rec.key, value=rec.value, headers=rec.headers)
            sent_frames += 1
        while sent_chunks < int(elapsed * args.cps) + 1:
            device = f"{run}-rec-{sent_chunks % args.recorders}"
            rec = encode_audio(
                AudioRecord(device, f"{run}-c{sent_chunks}", f"{device}-s0", int(time.time() * 1000), 32_000,
                            wavs[sent_chunks % len(wavs)])
            )  # fmt: skip
            producer.produce(topics["audio"], key=rec.key, value=rec.value, headers=rec.headers)
            sent_chunks += 1
        producer.poll(0)
        time.sleep(0.005)
    producer.flush(60)
    return {"frames": sent_frames, "chunks": sent_chunks, "seconds": time.time() - t0}


def landed(settings, table: str, id_col: str, prefix: str) -> list[tuple[float, float]]:
    """(captured_at, ingested_at) epoch seconds of the rows of this run."""
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT extract(epoch FROM captured_at), extract(epoch FROM ingested_at) FROM {table}"
            f" WHERE {id_col} LIKE %s",
            (prefix + "%",),
        )
        return [(float(a), float(b)) for a, b in cur.fetchall()]


def tree_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by each process of the job's tree, by kind."""
    out = {"jvm": 0.0, "python_workers": 0.0, "driver": 0.0}
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            line = " ".join(proc.cmdline())
            kind = "driver" if proc.pid == pid else "jvm" if "java" in line else "python_workers"
            out[kind] += times.user + times.system
    except psutil.Error:
        pass
    return out


def tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.Error:
        return 0.0


def wait_landed(settings, prefix: str, expected: int, timeout_s: float) -> tuple[list, list]:
    deadline = time.monotonic() + timeout_s
    while True:
        frames = landed(settings, "frames", "frame_id", f"{prefix}-f")
        chunks = landed(settings, "audio_chunks", "chunk_id", f"{prefix}-c")
        if len(frames) + len(chunks) >= expected or time.monotonic() > deadline:
            return frames, chunks
        time.sleep(1.0)


def lag_stats(lags: list[float]) -> dict:
    if not lags:
        return {}
    return {
        "p50": round(percentile(lags, 50), 1),
        "p99": round(percentile(lags, 99), 1),
        "max": round(max(lags), 1),
        "mean": round(statistics.fmean(lags), 1),
    }


def bench_feature_job(settings, args, log_dir: Path) -> dict:
    """Warm-up load (JIT, code generation, Python workers), then the measured load."""
    from stream_jobs.features.launcher import FeatureJobProcess

    run = f"b{uuid.uuid4().hex[:6]}"
    jpegs, wavs = media_pool(40, 10)
    topics = create_topics(settings, run)
    job_args = ["--job-name", f"bench-{run}", "--group-id", f"bench-{run}"]
    job_args += ["--parallelism", str(args.parallelism), "--batch-size", str(args.batch_size)]
    job_args += ["--bundle-time", str(args.bundle_time)]
    job_args += ["--frames-topic", topics["frames"], "--audio-topic", topics["audio"]]
    started = time.monotonic()
    job = FeatureJobProcess(settings.data_dir, log_dir / f"feature-job-{run}.log", job_args).start(300)
    start_s = time.monotonic() - started
    rss: list[float] = []
    sampler_stop = threading.Event()

    def sample() -> None:
        while not sampler_stop.wait(2.0):
            rss.append(tree_rss_mb(job.proc.pid))

    threading.Thread(target=sample, daemon=True).start()
    try:
        warm = publish_paced(settings, args, f"{run}w", topics, jpegs, wavs, seconds=args.warmup)
        wait_landed(settings, f"{run}w", warm["frames"] + warm["chunks"], args.drain_timeout)
        load_before = os.getloadavg()
        cpu0, cpu_before = psutil.cpu_times(), tree_cpu_s(job.proc.pid)
        sent = publish_paced(settings, args, f"{run}m", topics, jpegs, wavs, seconds=args.seconds)
        frames, chunks = wait_landed(settings, f"{run}m", sent["frames"] + sent["chunks"], args.drain_timeout)
        cpu1, cpu_after = psutil.cpu_times(), tree_cpu_s(job.proc.pid)
    finally:
        sampler_stop.set()
        job.stop()
    rows = frames + chunks
    span = max(b for _, b in rows) - min(a for a, _ in rows)  # first capture -> last row in PostgreSQL
    busy = sum(getattr(cpu1, k) - getattr(cpu0, k) for k in ("user", "system", "nice"))
    total = busy + (cpu1.idle - cpu0.idle) + (cpu1.iowait - cpu0.iowait)
    job_cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    return {
        "offered": {"frames_per_s": args.fps, "chunks_per_s": args.cps, "seconds": args.seconds},
        "sent": sent,
        "landed": {"frames": len(frames), "chunks": len(chunks)},
        "sustained_records_per_s": round(len(rows) / span, 1),
        "sustained_frames_per_s": round(len(frames) / span, 1),
        "sustained_chunks_per_s": round(len(chunks) / span, 1),
        "lag_capture_to_postgres_ms": {
            "frames": lag_stats([(b - a) * 1000 for a, b in frames]),
            "chunks": lag_stats([(b - a) * 1000 for a, b in chunks]),
            "all": lag_stats([(b - a) * 1000 for a, b in rows]),
        },
        "job_cpu_ms_per_record": {k: round(v / max(1, len(rows)) * 1000, 2) for k, v in job_cpu.items()},
        "job_records_per_cpu_core_s": round(len(rows) / max(1e-9, sum(job_cpu.values())), 1),
        "job_start_s": round(start_s, 1),
        "job_tree_rss_mb": {"max": round(max(rss)) if rss else None, "last": round(rss[-1]) if rss else None},
        "machine_cpu_busy_pct": round(100 * busy / total, 1) if total else None,
        "machine_load_average_before": [round(x, 2) for x in load_before],
        "cpus": psutil.cpu_count(),
        "parallelism": args.parallelism,
        "udf_batch_size": args.batch_size,
        "udf_bundle_time_ms": args.bundle_time,
    }


def bench_history_sink(settings, messages: int) -> dict:
    from stream_jobs.history.metrics import SinkMetrics
    from stream_jobs.history.sink import HistorySink, HistorySinkConfig

    run = f"h{uuid.uuid4().hex[:6]}"
    producer = Producer(producer_config(settings))
    t_base = int(time.time() * 1000)
    for i in range(messages):
        device = f"{run}-boom-{i % 8}"
        msg = {
            "device_id": device,
            "frame_id": f"{run}-{i}",
            "captured_at": t_base + i,
            "produced_at": t_base + i + 30,
            "model": {"name": "weednet", "version": "1"},
            "boxes": [
                {"class_id": 1, "class_name": "weed", "score": 0.8, "xyxy": [0.1, 0.2, 0.3, 0.4]},
                {"class_id": 0, "class_name": "crop", "score": 0.9, "xyxy": [0.5, 0.5, 0.7, 0.8]},
            ],
        }
        producer.produce(DETECTIONS_VISION, key=device.encode(), value=encode_message(DETECTIONS_VISION, msg))
        if i % 1000 == 0:
            producer.poll(0)
    producer.flush(60)
    sink = HistorySink(
        settings,
        HistorySinkConfig(group_id=f"bench-{run}", topics={DETECTIONS_VISION: DETECTIONS_VISION}),
        SinkMetrics(CollectorRegistry()),
    )
    thread = threading.Thread(target=sink.run, daemon=True)
    t0 = time.monotonic()
    thread.start()
    while sink.stats["messages"] < messages and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    sink.stop()
    thread.join(30)
    return {
        "messages": messages,
        "rows": sink.stats["rows"],
        "seconds": round(elapsed, 2),
        "rows_per_s": round(sink.stats["rows"] / elapsed, 0),
        "note": "includes consumer group join; decode + JSON Schema validation + upsert + commit per batch",
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the paced load")
    parser.add_argument("--fps", type=float, default=100.0, help="frames per second offered")
    parser.add_argument("--cps", type=float, default=20.0, help="audio chunks per second offered")
    parser.add_argument("--booms", type=int, default=4, help="camera devices")
    parser.add_argument("--recorders", type=int, default=4, help="recorder devices")
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100, help="UDF Arrow batch size")
    parser.add_argument("--bundle-time", type=int, default=200, help="UDF bundle time, ms")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load before the measured one")
    parser.add_argument("--drain-timeout", type=float, default=180.0)
    parser.add_argument("--history-messages", type=int, default=20_000)
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=None, help="a running stack (default: start one)")
    args = parser.parse_args()
    # Run as a script, this folder is sys.path[0]: this file would shadow the `stream_jobs` package and
    # benchmarks/producers.py the `producers` package, so they are imported (in the functions) after this.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]

    own = args.data_dir is None
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fs-bench-jobs-"))
    stack = LocalStack(data_dir)
    if own:
        stack.up(timeout_s=180)
    try:
        settings = load_settings({**os.environ, "FIELDSTREAM_DATA_DIR": str(data_dir)})
        out = {
            "benchmark": "stream_jobs",
            "feature_job": bench_feature_job(settings, args, data_dir / "bench"),
        }
        if not args.skip_history:
            out["history_sink"] = bench_history_sink(settings, args.history_messages)
        out["postgres_backend"] = stack.status()[0].detail
    finally:
        if own:
            stack.down()
            shutil.rmtree(data_dir, ignore_errors=True)  # media archive, Kafka log: ~1 GB a minute
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
