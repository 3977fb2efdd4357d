"""The options of ``fieldstream produce``'s verbs: one ``add_*`` function a verb (:data:`VERBS`), and
the option types they share.

Defaults are never written here: they come from the run definitions
(:mod:`producers.device_runs`), :mod:`producers.config` and the kernel (:mod:`fieldstream.modality`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fieldstream.modality import AUDIO, AUDIO_CHUNK_SECONDS, AUDIO_SAMPLE_RATE, VISION
from fieldstream.topics import LABELS
from producers.cli import handlers
from producers.config import (
    DEFAULT_FLUSH_TIMEOUT_S,
    DEFAULT_QUEUE_KBYTES,
    MAX_DEFAULT_RENDER_WORKERS,
    MIN_POOLED_FRAMES,
    MIN_QUEUE_MB,
)
from producers.device_runs import AudioRun, FrameRun, SimulatedRun

FRAMES = FrameRun()  # the defaults of `produce frames`
AUDIO_RUN = AudioRun()  # the defaults of `produce audio`
WEED_KINDS_HELP = "thistle, grass_weed, chickweed, or bindweed (the drift-only kind)"
NEW_SPECIES_HELP = "katydi1 or comloo (the drift-only species), or any species outside the pool"
SEASONS = ("summer", "autumn")
CHUNK = f"{AUDIO_CHUNK_SECONDS:g} s"  # one chunk, as help texts name it
KHZ = f"{AUDIO_SAMPLE_RATE / 1000:g} kHz"


def start_time(text: str) -> int:
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


def queue_mb(text: str) -> int:
    value = int(text)
    if value < MIN_QUEUE_MB:
        raise argparse.ArgumentTypeError(f"must be >= {MIN_QUEUE_MB} (room for the largest record)")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def _connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("labels, connection and output")
    group.add_argument("--no-labels", action="store_true", help=f"do not publish ground truth to {LABELS}")
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
        type=queue_mb,
        default=DEFAULT_QUEUE_KBYTES // 1024,
        help="local queue bound in MiB; a full queue blocks the producer (default %(default)s)",
    )
    group.add_argument(
        "--flush-timeout",
        type=float,
        default=DEFAULT_FLUSH_TIMEOUT_S,
        help="seconds to wait for delivery reports at the end (default %(default)s)",
    )


def _device_options(parser: argparse.ArgumentParser, run: SimulatedRun, noun: str, world: str) -> None:
    """The options every simulated run has (see :class:`~producers.device_runs.SimulatedRun`)."""
    parser.add_argument(
        "--devices", type=positive_int, default=run.devices, help=f"number of {noun} (default %(default)s)"
    )
    parser.add_argument(
        "--device-prefix",
        default=run.device_prefix,
        help="device ids are PREFIX-0..N-1 (default %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=run.seed, help=f"world seed; each device's {world} also depends on its id"
    )


def _start_time_option(parser: argparse.ArgumentParser, first: str) -> None:
    parser.add_argument(
        "--start-time",
        type=start_time,
        default=None,
        help=f"captured_at of {first}: epoch ms or ISO-8601 (default now)",
    )


def add_frames(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "frames",
        help="simulated boom-camera frames (crop/weed scenes) with box labels",
        description="Render top-down crop/weed frames for N boom cameras (ids <prefix>-0..N-1),"
        f" interleaved round-robin, as JPEG to {VISION.raw_topic} with box ground truth to {LABELS}."
        f" Without --fps they are published as fast as possible (timestamps still 1/{FRAMES.fps:g} s"
        " apart).",
    )
    _device_options(p, FRAMES, "cameras", "field")
    amount = p.add_mutually_exclusive_group()
    amount.add_argument(
        "--count",
        type=int,
        default=FRAMES.count,
        help="frames per device; 0 = until stopped (default %(default)s)",
    )
    amount.add_argument(
        "--duration", type=float, default=None, help="seconds of driving per device (count = duration x fps)"
    )
    p.add_argument(
        "--fps",
        type=float,
        default=None,
        help=f"frames per second per device: camera rate and publishing pace (default: camera"
        f" {FRAMES.fps:g} fps, unpaced)",
    )
    p.add_argument(
        "--width", type=int, default=FRAMES.width, help="image width in pixels (default %(default)s)"
    )
    p.add_argument(
        "--height", type=int, default=FRAMES.height, help="image height in pixels (default %(default)s)"
    )
    p.add_argument(
        "--speed",
        type=float,
        default=FRAMES.speed_mps,
        help=f"driving speed in m/s (default {FRAMES.speed_mps:g})",
    )
    p.add_argument(
        "--jpeg-quality",
        type=int,
        default=FRAMES.jpeg_quality,
        help="JPEG quality 1..100 (default %(default)s)",
    )
    p.add_argument(
        "--render-workers",
        type=positive_int,
        default=None,
        help="processes rendering frames, 1 = in this process; the frames are the same for any number"
        f" (default: one per CPU, at most {MAX_DEFAULT_RENDER_WORKERS}; 1 for runs under"
        f" {MIN_POOLED_FRAMES} frames, as workers take seconds to start)",
    )
    drift = p.add_argument_group("drift knobs (take effect at --drift-at seconds of simulated time)")
    drift.add_argument("--new-weed-kind", default=None, help=f"weed kind brought in: {WEED_KINDS_HELP}")
    drift.add_argument("--season", choices=SEASONS, help="season look (autumn: browner soil, longer shadows)")
    drift.add_argument(
        "--drift-at", type=float, default=None, help="seconds from the start (default: from the start)"
    )
    _start_time_option(p, "frame 0")
    _connection_options(p)
    p.set_defaults(handler=handlers.frames)


def add_audio(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "audio",
        help=f"simulated soundscape chunks ({CHUNK}, {KHZ}) with species labels",
        description="Synthesise soundscapes for N recorders (ids <prefix>-0..N-1): sessions of"
        f" contiguous {CHUNK} chunks, PCM16 WAV to {AUDIO.raw_topic}, the species heard in each chunk"
        f" to {LABELS}. As fast as possible unless --realtime (one chunk per {CHUNK} per device).",
    )
    _device_options(p, AUDIO_RUN, "recorders", "soundscape")
    p.add_argument(
        "--sessions",
        type=positive_int,
        default=AUDIO_RUN.sessions,
        help="sessions (tours) per device (default %(default)s)",
    )
    minutes = AUDIO_RUN.chunks_per_session * AUDIO_CHUNK_SECONDS / 60
    p.add_argument(
        "--chunks-per-session",
        type=positive_int,
        default=AUDIO_RUN.chunks_per_session,
        help=f"{CHUNK} chunks per session (default %(default)s = {minutes:g} min)",
    )
    p.add_argument(
        "--species-pool",
        default=None,
        help="comma-separated species ids a session draws from (default: all base species)",
    )
    p.add_argument(
        "--call-density",
        type=float,
        default=AUDIO_RUN.call_density,
        help="expected calls per non-empty chunk (default %(default)s)",
    )
    p.add_argument("--realtime", action="store_true", help=f"pace at one chunk per {CHUNK} per device")
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
    _connection_options(p)
    p.set_defaults(handler=handlers.audio)


def add_replay_images(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "replay-images",
        help="replay a YOLO-format image folder (images unchanged, YOLO labels as boxes)",
        description=f"Publish every JPEG/PNG under DIR/images (or DIR) unchanged to {VISION.raw_topic};"
        f" YOLO label files (DIR/labels/**/<stem>.txt, 'class cx cy w h') go to {LABELS} as xyxy"
        " boxes with source=dataset, class names from DIR/data.yaml. Unsupported or corrupt images"
        " are reported and skipped.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the dataset folder")
    p.add_argument(
        "--device-id", default="replay-camera-0", help="device id for every frame (default %(default)s)"
    )
    p.add_argument("--fps", type=float, default=None, help="frames per second (default: as fast as possible)")
    p.add_argument("--loop", action="store_true", help="start over at the end, until stopped")
    p.add_argument("--limit", type=int, default=None, help="stop after this many frames")
    _connection_options(p)
    p.set_defaults(handler=handlers.replay_images)


def add_replay_audio(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "replay-audio",
        help=f"replay a folder of recordings (WAV/FLAC/OGG) as {CHUNK}, {KHZ} mono chunks",
        description="Decode every audio file under DIR (recursively; any rate and channel count),"
        f" mix to mono, resample to {KHZ}, cut into {CHUNK} chunks (a last partial chunk of at least"
        " 1 s is zero-padded, a shorter one dropped) and publish them as PCM16 WAV; session id ="
        f" file stem. With BirdCLEF train.csv (+ taxonomy.csv) in DIR or its parent, each chunk gets"
        f" its file's species in {LABELS} (weak, file-level labels). Corrupt files are reported"
        " and skipped.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the folder of recordings")
    p.add_argument(
        "--device-id",
        default="replay-recorder-0",
        help="device id for every chunk (default %(default)s)",
    )
    p.add_argument("--realtime", action="store_true", help=f"pace at one chunk per {CHUNK}")
    _connection_options(p)
    p.set_defaults(handler=handlers.replay_audio)


#: every verb of ``fieldstream produce``, in --help order
VERBS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    add_frames,
    add_audio,
    add_replay_images,
    add_replay_audio,
)
