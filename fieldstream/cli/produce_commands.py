"""``fieldstream produce frames | audio | replay-images | replay-audio``: publish media to Kafka.

Each command builds a *source* (simulated or replayed records, from ``producers``) and runs it
through the shared publishing loop (:func:`producers.runner.publish_all`): paced per device,
bounded local queue, delivery reports counted, clean stop on Ctrl-C/SIGTERM, one summary line on
stderr (and a JSON object on stdout with ``--json``). Exit codes: 0 done (or stopped by SIGTERM),
1 some records were not delivered, 2 bad options or dataset, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fieldstream.settings import Settings, load_settings
from producers.pacing import Pacer
from producers.publisher import DEFAULT_QUEUE_KBYTES
from producers.runner import DEFAULT_FLUSH_TIMEOUT_S, SourceItem
from producers.shutdown import StopSignal

# The simulators and replayers (numpy, scipy, PIL, soundfile) are imported inside the handlers, so
# that `fieldstream --help` and the other command groups do not pay for them.
CAMERA_FPS = 10.0  # producers.simulated.DEFAULT_CAMERA_FPS
CHUNK_SECONDS = 5.0  # producers.soundscape.CHUNK_SECONDS
WEED_KINDS_HELP = "thistle, grass_weed, chickweed, or bindweed (the drift-only kind)"
NEW_SPECIES_HELP = "katydi1 or comloo (the drift-only species), or any species outside the pool"
MIN_QUEUE_MB = 10  # fieldstream.kafka.config.MAX_MESSAGE_BYTES
_EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    produce = sub.add_parser(
        "produce",
        help="publish simulated or replayed frames and soundscape chunks (+ ground-truth labels) to Kafka",
        description="Publish media to frames.raw.v1 / audio.raw.v1 and ground truth to labels.v1,"
        " keyed by device id. Ctrl-C or SIGTERM stops cleanly: queued records are flushed and the"
        " summary printed.",
    )
    verbs = produce.add_subparsers(dest="verb", required=True, metavar="VERB")
    _frames_parser(verbs)
    _audio_parser(verbs)
    _replay_images_parser(verbs)
    _replay_audio_parser(verbs)


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("labels, connection and output")
    group.add_argument("--no-labels", action="store_true", help="do not publish ground truth to labels.v1")
    group.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="stack folder for the settings (default: $FIELDSTREAM_DATA_DIR)",
    )
    group.add_argument(
        "--kafka-bootstrap", default=None, help="host:port of Kafka (default: from the settings)"
    )
    group.add_argument("--json", action="store_true", help="print the summary as one JSON object on stdout")
    group.add_argument(
        "--quiet", action="store_true", help="no progress bar (there is none when stderr is not a TTY)"
    )
    group.add_argument(
        "--max-queue-mb",
        type=_queue_mb,
        default=DEFAULT_QUEUE_KBYTES // 1024,
        help="local queue bound in MiB; a full queue blocks the producer (default %(default)s)",
    )
    group.add_argument(
        "--flush-timeout",
        type=float,
        default=DEFAULT_FLUSH_TIMEOUT_S,
        help="seconds to wait for delivery reports at the end (default %(default)s)",
    )


def _start_time(text: str) -> int:
    """UTC epoch milliseconds, or an ISO-8601 time (naive = UTC)."""
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not epoch ms nor ISO-8601: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _start_time_option(parser: argparse.ArgumentParser, first: str) -> None:
    parser.add_argument(
        "--start-time",
        type=_start_time,
        default=None,
        help=f"captured_at of {first}: epoch ms or ISO-8601 (default now)",
    )


def _queue_mb(text: str) -> int:
    value = int(text)
    if value < MIN_QUEUE_MB:
        raise argparse.ArgumentTypeError(f"must be >= {MIN_QUEUE_MB} (room for the largest record)")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _frames_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "frames",
        help="simulated boom-camera frames (crop/weed scenes) with box labels",
        description="Render top-down crop/weed frames for N boom cameras (ids <prefix>-0..N-1),"
        " interleaved round-robin, as JPEG to frames.raw.v1 with box ground truth to labels.v1."
        " Without --fps they are published as fast as possible (timestamps still 1/10 s apart).",
    )
    p.add_argument("--devices", type=_positive_int, default=1, help="number of cameras (default 1)")
    p.add_argument("--device-prefix", default="boom", help="device ids are PREFIX-0..N-1 (default boom)")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument(
        "--count", type=int, default=100, help="frames per device; 0 = until stopped (default 100)"
    )
    amount.add_argument(
        "--duration", type=float, default=None, help="seconds of driving per device (count = duration x fps)"
    )
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help=f"frames per second per device: camera rate and publishing pace (default: camera"
        f" {CAMERA_FPS:g} fps, unpaced)",
    )
    p.add_argument("--width", type=int, default=640, help="image width in pixels (default 640)")
    p.add_argument("--height", type=int, default=480, help="image height in pixels (default 480)")
    p.add_argument("--speed", type=float, default=6.0, help="driving speed in m/s (default 6)")
    p.add_argument(
        "--seed", type=int, default=0, help="world seed; each device's field also depends on its id"
    )
    p.add_argument("--jpeg-quality", type=int, default=85, help="JPEG quality 1..100 (default 85)")
    p.add_argument(
        "--render-workers",
        type=_positive_int,
        default=None,
        help="processes rendering frames, 1 = in this process; the frames are the same for any number"
        " (default: one per CPU, at most 4; 1 for runs under 1000 frames, as workers take seconds to"
        " start)",
    )
    drift = p.add_argument_group("drift knobs (take effect at --drift-at seconds of simulated time)")
    drift.add_argument("--new-weed-kind", default=None, help=f"weed kind brought in: {WEED_KINDS_HELP}")
    drift.add_argument(
        "--season", choices=("summer", "autumn"), help="season look (autumn: browner soil, longer shadows)"
    )
    drift.add_argument(
        "--drift-at", type=float, default=None, help="seconds from the start (default: from the start)"
    )
    _start_time_option(p, "frame 0")
    _common(p)
    p.set_defaults(handler=_frames)


def _audio_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "audio",
        help="simulated soundscape chunks (5 s, 32 kHz) with species labels",
        description="Synthesise soundscapes for N recorders (ids <prefix>-0..N-1): sessions of"
        " contiguous 5 s chunks, PCM16 WAV to audio.raw.v1, the species heard in each chunk to"
        " labels.v1. As fast as possible unless --realtime (one chunk per 5 s per device).",
    )
    p.add_argument("--devices", type=_positive_int, default=1, help="number of recorders (default 1)")
    p.add_argument(
        "--device-prefix", default="recorder", help="device ids are PREFIX-0..N-1 (default recorder)"
    )
    p.add_argument(
        "--sessions", type=_positive_int, default=1, help="sessions (tours) per device (default 1)"
    )
    p.add_argument(
        "--chunks-per-session",
        type=_positive_int,
        default=12,
        help="5 s chunks per session (default 12 = 1 min)",
    )
    p.add_argument(
        "--species-pool",
        default=None,
        help="comma-separated species ids a session draws from (default: all base species)",
    )
    p.add_argument(
        "--call-density", type=float, default=1.5, help="expected calls per non-empty chunk (default 1.5)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed; each device's soundscape also depends on its id"
    )
    p.add_argument("--realtime", action="store_true", help="pace at one chunk per 5 s per device")
    drift = p.add_argument_group("drift knobs")
    drift.add_argument(
        "--new-species",
        default=None,
        help=f"species joining the communities: {NEW_SPECIES_HELP}",
    )
    drift.add_argument(
        "--drift-at",
        type=float,
        default=None,
        help="seconds from the start when it joins (default: from the start)",
    )
    _start_time_option(p, "the first chunk")
    _common(p)
    p.set_defaults(handler=_audio)


def _replay_images_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "replay-images",
        help="replay a YOLO-format image folder (images unchanged, YOLO labels as boxes)",
        description="Publish every JPEG/PNG under DIR/images (or DIR) unchanged to frames.raw.v1;"
        " YOLO label files (DIR/labels/**/<stem>.txt, 'class cx cy w h') go to labels.v1 as xyxy"
        " boxes with source=dataset, class names from DIR/data.yaml. Unsupported or corrupt images"
        " are reported and skipped.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the dataset folder")
    p.add_argument(
        "--device-id", default="replay-camera-0", help="device id for every frame (default replay-camera-0)"
    )
    p.add_argument("--fps", type=float, default=None, help="frames per second (default: as fast as possible)")
    p.add_argument("--loop", action="store_true", help="start over at the end, until stopped")
    p.add_argument("--limit", type=int, default=None, help="stop after this many frames")
    _common(p)
    p.set_defaults(handler=_replay_images)


def _replay_audio_parser(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "replay-audio",
        help="replay a folder of recordings (WAV/FLAC/OGG) as 5 s, 32 kHz mono chunks",
        description="Decode every audio file under DIR (recursively; any rate and channel count),"
        " mix to mono, resample to 32 kHz, cut into 5 s chunks (a last partial chunk of at least"
        " 1 s is zero-padded, a shorter one dropped) and publish them as PCM16 WAV; session id ="
        " file stem. With BirdCLEF train.csv (+ taxonomy.csv) in DIR or its parent, each chunk gets"
        " its file's species in labels.v1 (weak, file-level labels). Corrupt files are reported"
        " and skipped.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the folder of recordings")
    p.add_argument(
        "--device-id",
        default="replay-recorder-0",
        help="device id for every chunk (default replay-recorder-0)",
    )
    p.add_argument("--realtime", action="store_true", help="pace at one chunk per 5 s")
    _common(p)
    p.set_defaults(handler=_replay_audio)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(data_dir=args.data_dir, kafka_bootstrap=args.kafka_bootstrap)


def _usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return _EXIT_USAGE


def _publish(
    args: argparse.Namespace,
    settings: Settings,
    command: str,
    source: Iterable[SourceItem],
    pacer: Pacer,
    total: int | None,
    extra: dict[str, Any] | None = None,
    stop: StopSignal | None = None,
) -> int:
    from producers.publisher import MediaPublisher
    from producers.runner import progress_bar, publish_all

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


def _frames(args: argparse.Namespace) -> int:
    from producers.render_workers import default_render_workers
    from producers.simulated import FrameRun, simulated_frames

    settings = _settings(args)
    fps = args.fps if args.fps else CAMERA_FPS
    count = math.ceil(args.duration * fps) if args.duration is not None else (args.count or None)
    if count is not None and count < 0:
        return _usage_error("--count must be >= 0")
    total = args.devices * count if count else None
    workers = args.render_workers or default_render_workers(total)
    run = FrameRun(
        devices=args.devices, device_prefix=args.device_prefix, count=count, fps=fps, width=args.width,
        height=args.height, speed_mps=args.speed, seed=args.seed, jpeg_quality=args.jpeg_quality,
        new_weed_kind=args.new_weed_kind, season=args.season, drift_at_s=args.drift_at,
        labels=not args.no_labels, start_time_ms=args.start_time, max_payload=settings.max_payload_bytes,
        render_workers=workers,
    )  # fmt: skip
    try:
        run.configs(0)  # validate the options before anything starts
        pacer = Pacer.per_second(args.fps)
    except ValueError as exc:
        return _usage_error(str(exc))
    stop = StopSignal()  # also ends the wait for render workers (their start-up takes seconds)
    source = simulated_frames(run, should_stop=stop.is_set)
    extra = {"render_workers": workers}
    return _publish(args, settings, "frames", source, pacer, total, extra, stop)


def _audio(args: argparse.Namespace) -> int:
    from producers.simulated import AudioRun, simulated_chunks

    settings = _settings(args)
    pool = tuple(s.strip() for s in args.species_pool.split(",") if s.strip()) if args.species_pool else None
    run = AudioRun(
        devices=args.devices, device_prefix=args.device_prefix, sessions=args.sessions,
        chunks_per_session=args.chunks_per_session, species_pool=pool, call_density=args.call_density,
        seed=args.seed, new_species=args.new_species, drift_at_s=args.drift_at, labels=not args.no_labels,
        start_time_ms=args.start_time, max_payload=settings.max_payload_bytes,
    )  # fmt: skip
    try:
        run.configs(0)
    except ValueError as exc:
        return _usage_error(str(exc))
    pacer = Pacer(CHUNK_SECONDS if args.realtime else None)
    return _publish(args, settings, "audio", simulated_chunks(run), pacer, run.total)


def _replay_images(args: argparse.Namespace) -> int:
    from producers.errors import DatasetError
    from producers.replay import YoloDataset, replay_images
    from producers.runner import take

    settings = _settings(args)
    try:
        dataset = YoloDataset.open(args.dir)
        pacer = Pacer.per_second(args.fps)
    except (DatasetError, ValueError) as exc:
        return _usage_error(str(exc))
    if not dataset.images:
        return _usage_error(f"no images under {args.dir}")
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
    return _publish(args, settings, "replay-images", source, pacer, total, extra)


def _replay_audio(args: argparse.Namespace) -> int:
    from producers.errors import DatasetError
    from producers.replay import BirdclefLabels, find_audio_files, replay_audio
    from producers.replay.audio_files import estimate_chunks

    settings = _settings(args)
    try:
        files = find_audio_files(args.dir)
        birdclef = None if args.no_labels else BirdclefLabels.find(args.dir)
    except DatasetError as exc:
        return _usage_error(str(exc))
    if not files:
        return _usage_error(f"no audio files under {args.dir}")
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
    pacer = Pacer(CHUNK_SECONDS if args.realtime else None)
    extra = {"files": len(files), "labelled_files": labelled}
    return _publish(args, settings, "replay-audio", source, pacer, estimate_chunks(files), extra)
