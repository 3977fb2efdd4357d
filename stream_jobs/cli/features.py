"""``fieldstream features run | latest``: the PyFlink feature job and the online store it fills."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fieldstream.modality import MODALITIES
from fieldstream.settings import load_settings

VIEWS = tuple(m.view for m in MODALITIES.values())  # frames, audio


def register(sub: argparse._SubParsersAction) -> None:
    features = sub.add_parser(
        "features",
        help="run the PyFlink feature job; read the latest features from the online store",
        description="Features of camera frames and soundscape chunks: the streaming job that computes "
        "them (Kafka -> PyFlink -> Kafka, PostgreSQL, Redis, media archive) and the online store.",
    )
    features.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="stack folder (default: $FIELDSTREAM_DATA_DIR or ./.fieldstream)",
    )
    verbs = features.add_subparsers(dest="verb", required=True, metavar="VERB")

    run = verbs.add_parser(
        "run",
        help="run the feature job on a local PyFlink cluster until SIGTERM/Ctrl-C",
        description="Read frames.raw.v1 and audio.raw.v1, compute features in vectorised Python UDFs, "
        "and write features.*.v1, Redis (latest per device/session), PostgreSQL (per record and "
        "1-minute windows), the media archive and deadletter.v1. Resumes from the newest retained "
        "checkpoint or savepoint under <data-dir>/flink/<job-name>; SIGTERM stops with a savepoint.",
    )
    run.add_argument(
        "--kinds",
        nargs="+",
        choices=VIEWS,
        default=list(VIEWS),
        help="streams to process (default: both)",
    )
    run.add_argument(
        "--job-name", default="fieldstream-features", help="Flink job name and state folder name"
    )
    run.add_argument("--group-id", default="fieldstream-features", help="Kafka consumer group of the sources")
    run.add_argument("--frames-topic", default=None, help="raw frames topic (default frames.raw.v1)")
    run.add_argument("--audio-topic", default=None, help="raw audio topic (default audio.raw.v1)")
    run.add_argument("--parallelism", type=int, default=1, help="operator parallelism (default 1)")
    run.add_argument("--checkpoint-interval", type=float, default=5.0, help="seconds between checkpoints")
    run.add_argument(
        "--watermark-delay",
        type=float,
        default=5.0,
        help="seconds of out-of-orderness before a 1-minute window closes (default 5)",
    )
    run.add_argument(
        "--idle-timeout",
        type=float,
        default=10.0,
        help="seconds after which a silent partition stops holding back event time",
    )
    run.add_argument("--redis-ttl", type=float, default=24 * 3600.0, help="TTL of online-store keys, seconds")
    run.add_argument("--archive", default=None, help="media archive URL or folder (default <data-dir>/media)")
    run.add_argument("--batch-size", type=int, default=100, help="rows per vectorised UDF call (default 100)")
    run.add_argument(
        "--bundle-time", type=int, default=200, help="longest wait for a UDF batch, ms (default 200)"
    )
    run.add_argument(
        "--metrics-port",
        type=int,
        default=None,
        help="serve Flink's Prometheus metrics (job, operators, UDF counters) on this port",
    )
    run.add_argument(
        "--health-port",
        type=int,
        default=None,
        help="serve /healthz, /readyz and /metrics of the driver on this port",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="ignore retained checkpoints/savepoints and start from the group's offsets",
    )
    run.set_defaults(handler=_run)

    latest = verbs.add_parser(
        "latest",
        help="print the latest features of a device or session from the online store (Redis)",
        description="Read one entity from the Redis online store"
        " (layout: feature_store/online/REDIS_LAYOUT.md).",
    )
    latest.add_argument("view", choices=VIEWS, help="feature view")
    target = latest.add_mutually_exclusive_group(required=True)
    target.add_argument("--device", help="device id")
    target.add_argument("--session", help="session id (audio only)")
    latest.set_defaults(handler=_latest)


def _run(args: argparse.Namespace) -> int:
    from stream_jobs.features.config import FeatureJobConfig
    from stream_jobs.features.job import run_feature_job

    settings = load_settings(data_dir=args.data_dir)
    topics = {"frames_topic": args.frames_topic, "audio_topic": args.audio_topic}
    config = FeatureJobConfig(
        job_name=args.job_name,
        group_id=args.group_id,
        kinds=tuple(args.kinds),
        parallelism=args.parallelism,
        checkpoint_interval_s=args.checkpoint_interval,
        watermark_delay_s=args.watermark_delay,
        idle_timeout_s=args.idle_timeout,
        redis_ttl_s=args.redis_ttl,
        archive_url=args.archive,
        arrow_batch_size=args.batch_size,
        bundle_time_ms=args.bundle_time,
        metrics_port=args.metrics_port,
        health_port=args.health_port,
        fresh=args.fresh,
        **{k: v for k, v in topics.items() if v},
    )
    return run_feature_job(config, settings)


def _latest(args: argparse.Namespace) -> int:
    from feature_store.online import RedisOnlineStore

    settings = load_settings(data_dir=args.data_dir)
    store = RedisOnlineStore.from_url(settings.redis_url)
    entity, entity_id = ("session", args.session) if args.session else ("device", args.device)
    row = store.read_latest(args.view, entity, entity_id)
    store.close()
    if row is None:
        print(f"no {args.view} features for {entity} {entity_id} (never seen, or expired)", file=sys.stderr)
        return 1
    print(json.dumps({**row.__dict__, "features": dict(row.features)}, indent=2))
    return 0
