"""``fieldstream worker vision|audio``: a Kafka inference worker (scale out by starting more)."""

from __future__ import annotations

import argparse
import signal
import sys

from fieldstream.modality import NAMES
from fieldstream.settings import load_settings
from inference_workers.worker.config import WorkerConfig


def register(sub: argparse._SubParsersAction) -> None:
    worker = sub.add_parser(
        "worker",
        help="run an inference worker: raw media in, detections out (exactly once)",
        description="Consume frames.raw.v1 (vision) or audio.raw.v1 (audio) in a consumer group, run the"
        " champion model with ONNX Runtime (TensorRT > CUDA > CPU) and produce one detection per record"
        " to detections.vision.v1 / detections.audio.v1 in Kafka transactions. Start more processes to"
        " scale out (up to the topic's partition count). SIGTERM finishes the batch and commits.",
    )
    worker.add_argument("kind", choices=NAMES, help="which stream and model")
    worker.add_argument(
        "--model",
        default=None,
        help="models:/NAME@ALIAS, models:/NAME/VERSION or a .onnx path"
        " (default: the champion; a path disables hot swap)",
    )
    worker.add_argument("--group", default=None, help="consumer group (default fieldstream-worker-KIND)")
    worker.add_argument(
        "--worker-id",
        default=None,
        help="stable id of this worker, part of its transactional.id (default host-pid)",
    )
    worker.add_argument("--max-batch", type=int, default=16, help="largest micro-batch (default 16)")
    worker.add_argument(
        "--max-wait-ms", type=int, default=10, help="longest wait to fill a batch (default 10)"
    )
    worker.add_argument(
        "--commit-interval-ms",
        type=int,
        default=WorkerConfig.commit_interval_ms,
        help=f"how long one Kafka transaction spans batches before it commits (default"
        f" {WorkerConfig.commit_interval_ms}; 0 = commit"
        " every batch); it commits at once when the input runs dry. Read-committed readers see"
        " detections at the commit",
    )
    worker.add_argument(
        "--decode-threads",
        type=int,
        default=None,
        help="threads decoding JPEG/WAV payloads (default: the core count, at most 4)",
    )
    worker.add_argument(
        "--metrics-port",
        type=int,
        default=9100,
        help="port of /metrics, /healthz (live: the loop turns) and /readyz (ready: model loaded and"
        " consumer started; 503 with the reason until then); default 9100, 0 = any free port",
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="address to bind /metrics, /healthz and /readyz on"
    )
    worker.add_argument("--no-features", action="store_true", help="do not attach online features from Redis")
    worker.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from inference_workers.worker.loop import InferenceWorker

    options = {
        "kind": args.kind,
        "model_ref": args.model,
        "group_id": args.group,
        "max_batch": args.max_batch,
        "max_wait_ms": args.max_wait_ms,
        "commit_interval_ms": args.commit_interval_ms,
        "metrics_port": args.metrics_port,
        "metrics_host": args.metrics_host,
        "attach_features": not args.no_features,
    }
    if args.worker_id:
        options["worker_id"] = args.worker_id
    if args.decode_threads:
        options["decode_threads"] = args.decode_threads
    worker = InferenceWorker(load_settings(), WorkerConfig(**options))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    try:
        worker.start()
        if worker.health:
            print(
                f"metrics and health on http://{args.metrics_host}:{worker.health.port}/metrics",
                file=sys.stderr,
                flush=True,
            )
        worker.run()
    finally:
        worker.close()
    print(f"worker stopped after {worker.processed} records", file=sys.stderr)
    return 0
