"""What runs ``fieldstream produce``'s verbs: each handler builds a source (a simulated run, a
replayed dataset) from the parsed options and publishes it (:func:`publish`); it returns the exit
code (0 done or stopped by SIGTERM, 1 some records not delivered, 2 bad options or dataset, 130
Ctrl-C).

The simulators, replayers and the Kafka client are imported here inside the handlers, so that
``fieldstream --help`` and the other command groups do not pay for them.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from fieldstream.modality import AUDIO_CHUNK_SECONDS
from fieldstream.settings import Settings, load_settings
from producers.config import DEFAULT_CAMERA_FPS
from producers.device_runs import AudioRun, FrameRun, SimulatedRun
from producers.errors import DatasetError
from producers.pacing import Pacer
from producers.records import SourceItem
from producers.shutdown import StopSignal

EXIT_USAGE = 2


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir=args.data_dir, kafka_bootstrap=args.kafka_bootstrap)


def usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def publish(
    args: argparse.Namespace,
    settings: Settings,
    command: str,
    source: Iterable[SourceItem],
    pacer: Pacer,
    total: int | None,
    extra: dict[str, Any] | None = None,
    stop: StopSignal | None = None,
) -> int:
    """Publish ``source`` with a progress bar of ``total`` records, print the summary, and return
    the exit code."""
    from producers.publish_loop import progress_bar, publish_all
    from producers.publisher import MediaPublisher

    publisher = MediaPublisher(settings, queue_kbytes=args.max_queue_mb * 1024)
    stop = stop or StopSignal()
    with stop.installed(), progress_bar(total, not args.quiet) as progress:
        summary = publish_all(
            command,
            source,
            publisher,
            pacer=pacer,
            stop=stop,
            progress=progress,
            flush_timeout_s=args.flush_timeout,
            extra=extra,
        )
    print(summary.line(), file=sys.stderr)
    for error in summary.stats.errors[:5]:
        print(f"  delivery error: {error}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_dict()), flush=True)
    if stop.signum == signal.SIGINT:
        return stop.exit_code
    return 0 if summary.ok else 1


def _device_options(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """The options of every simulated run (:class:`~producers.device_runs.SimulatedRun`)."""
    return {
        "devices": args.devices,
        "device_prefix": args.device_prefix,
        "seed": args.seed,
        "drift_at_s": args.drift_at,
        "labels": not args.no_labels,
        "start_time_ms": args.start_time,
        "max_payload": settings.max_payload_bytes,
    }


def _simulate(
    args: argparse.Namespace,
    settings: Settings,
    command: str,
    run: SimulatedRun,
    paced: bool,
    extra: dict[str, Any] | None = None,
) -> int:
    """Publish a simulated run, at its devices' own pace when ``paced``."""
    from producers.device_simulators import check_options
    from producers.simulated import simulated_records

    try:
        check_options(run)  # bad options fail before anything starts
    except ValueError as exc:
        return usage_error(str(exc))
    pacer = Pacer(run.interval_s if paced else None)
    stop = StopSignal()  # also ends the wait for render workers (their start-up takes seconds)
    source = simulated_records(run, should_stop=stop.is_set)
    return publish(args, settings, command, source, pacer, run.total, extra, stop)


def frames(args: argparse.Namespace) -> int:
    from producers.render_workers import default_render_workers

    settings = _settings(args)
    fps = args.fps if args.fps else DEFAULT_CAMERA_FPS
    count = math.ceil(args.duration * fps) if args.duration is not None else (args.count or None)
    if count is not None and count < 0:
        return usage_error("--count must be >= 0")
    run = FrameRun(
        count=count, fps=fps, width=args.width, height=args.height, speed_mps=args.speed,
        jpeg_quality=args.jpeg_quality, new_weed_kind=args.new_weed_kind, season=args.season,
        **_device_options(args, settings),
    )  # fmt: skip
    run = replace(run, render_workers=args.render_workers or default_render_workers(run.total))
    extra = {"render_workers": run.render_workers}
    return _simulate(args, settings, "frames", run, paced=bool(args.fps), extra=extra)


def audio(args: argparse.Namespace) -> int:
    settings = _settings(args)
    pool = tuple(s.strip() for s in args.species_pool.split(",") if s.strip()) if args.species_pool else None
    run = AudioRun(
        sessions=args.sessions, chunks_per_session=args.chunks_per_session, species_pool=pool,
        call_density=args.call_density, new_species=args.new_species, **_device_options(args, settings),
    )  # fmt: skip
    return _simulate(args, settings, "audio", run, paced=args.realtime)


def replay_images(args: argparse.Namespace) -> int:
    from producers.publish_loop import take
    from producers.replay import YoloDataset, replay_images

    settings = _settings(args)
    try:
        dataset = YoloDataset.open(args.dir)
        pacer = Pacer.per_second(args.fps)
    except (DatasetError, ValueError) as exc:
        return usage_error(str(exc))
    if not dataset.images:
        return usage_error(f"no images under {args.dir}")
    source = replay_images(
        dataset,
        args.device_id,
        loop=args.loop,
        labels=not args.no_labels,
        max_payload=settings.max_payload_bytes,
    )
    total = None if args.loop else len(dataset.images)
    if args.limit is not None:
        source = take(source, args.limit)
        total = args.limit if total is None else min(total, args.limit)
    extra = {"images": len(dataset.images), "labelled": dataset.has_labels and not args.no_labels}
    return publish(args, settings, "replay-images", source, pacer, total, extra)


def replay_audio(args: argparse.Namespace) -> int:
    from producers.replay import BirdclefLabels, find_audio_files, replay_audio
    from producers.replay.audio_files import estimate_chunks

    settings = _settings(args)
    try:
        files = find_audio_files(args.dir)
        birdclef = None if args.no_labels else BirdclefLabels.find(args.dir)
    except DatasetError as exc:
        return usage_error(str(exc))
    if not files:
        return usage_error(f"no audio files under {args.dir}")
    if birdclef is not None and birdclef.unknown_species():
        unknown = sorted(birdclef.unknown_species())
        print(
            f"warning: {len(unknown)} species in train.csv are not in taxonomy.csv: {unknown[:10]}",
            file=sys.stderr,
        )
    labelled = sum(birdclef.species_for(f, args.dir) is not None for f in files) if birdclef else 0
    source = replay_audio(
        args.dir, args.device_id, files=files, birdclef=birdclef, labels=not args.no_labels,
        max_payload=settings.max_payload_bytes,
    )  # fmt: skip
    pacer = Pacer(AUDIO_CHUNK_SECONDS if args.realtime else None)
    extra = {"files": len(files), "labelled_files": labelled}
    return publish(args, settings, "replay-audio", source, pacer, estimate_chunks(files), extra)
