"""Unit tests of ``fieldstream produce`` (producers/cli): options and their defaults, help, usage
errors, and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.cli import build_parser
from fieldstream.kafka.config import MAX_MESSAGE_BYTES
from producers.cli import parsers
from producers.config import DEFAULT_CAMERA_FPS, DEFAULT_FLUSH_TIMEOUT_S, DEFAULT_QUEUE_KBYTES, MIN_QUEUE_MB
from producers.device_runs import AudioRun, FrameRun
from producers.field_camera import (
    DRIFT_WEED_KINDS,
    SEASONS,
    WEED_KINDS,
    FieldCameraConfig,
)
from producers.soundscape import DRIFT_SPECIES_IDS


def _subparser(verb: str):
    parser = build_parser()
    produce = parser._subparsers._group_actions[0].choices["produce"]
    return produce._subparsers._group_actions[0].choices[verb]


def _parse(*argv: str):
    return build_parser().parse_args(["produce", *argv])


def test_cli_texts_match_the_simulators():
    assert all(kind in parsers.WEED_KINDS_HELP for kind in (*WEED_KINDS, *DRIFT_WEED_KINDS))
    assert all(species in parsers.NEW_SPECIES_HELP for species in DRIFT_SPECIES_IDS)
    season = next(a for a in _subparser("frames")._actions if a.dest == "season")
    assert tuple(season.choices) == SEASONS


def test_the_defaults_are_the_runs_and_the_configs():
    frames, run = _parse("frames"), FrameRun()
    assert (frames.devices, frames.device_prefix, frames.count, frames.seed) == (
        run.devices, run.device_prefix, run.count, run.seed,
    )  # fmt: skip
    assert (frames.width, frames.height, frames.speed, frames.jpeg_quality) == (
        run.width, run.height, run.speed_mps, run.jpeg_quality,
    )  # fmt: skip
    assert run.fps == FieldCameraConfig().fps == DEFAULT_CAMERA_FPS
    audio, sound = _parse("audio"), AudioRun()
    assert (audio.devices, audio.device_prefix, audio.sessions, audio.seed) == (
        sound.devices, sound.device_prefix, sound.sessions, sound.seed,
    )  # fmt: skip
    assert (audio.chunks_per_session, audio.call_density) == (sound.chunks_per_session, sound.call_density)
    assert frames.max_queue_mb == audio.max_queue_mb == DEFAULT_QUEUE_KBYTES // 1024
    assert frames.flush_timeout == audio.flush_timeout == DEFAULT_FLUSH_TIMEOUT_S


def test_the_queue_must_hold_the_largest_record():
    assert (MIN_QUEUE_MB - 1) * 1024 * 1024 < MAX_MESSAGE_BYTES <= MIN_QUEUE_MB * 1024 * 1024
    assert parsers.queue_mb(str(MIN_QUEUE_MB)) == MIN_QUEUE_MB
    with pytest.raises(SystemExit):
        _parse("frames", "--max-queue-mb", str(MIN_QUEUE_MB - 1))


@pytest.mark.parametrize("verb", ["frames", "audio", "replay-images", "replay-audio"])
def test_every_command_has_help(verb, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["produce", verb, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--json" in text and "--quiet" in text and len(text) > 800


def test_start_time_accepts_epoch_ms_and_iso8601():
    parse = parsers.start_time
    assert parse("1790000000123") == 1_790_000_000_123
    assert parse("2026-11-20T10:00:00Z") == parse("2026-11-20T10:00:00") == 1_795_168_800_000
    assert parse("2026-11-20T11:00:00+01:00") == 1_795_168_800_000


@pytest.mark.parametrize(
    "argv",
    [
        ["frames", "--new-weed-kind", "maize"],
        ["frames", "--jpeg-quality", "0"],
        ["frames", "--count", "-1"],
        ["audio", "--species-pool", "nope"],
        ["audio", "--drift-at", "10"],
        ["replay-images", "/nonexistent/dataset"],
        ["replay-audio", "/nonexistent/recordings"],
    ],
)
def test_bad_options_are_usage_errors_before_anything_is_published(argv, capsys):
    args = build_parser().parse_args(["produce", *argv, "--kafka-bootstrap", "127.0.0.1:1"])
    assert args.handler(args) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_the_cli_is_light_to_import():
    heavy = ("numpy", "PIL", "scipy", "soundfile", "confluent_kafka", "tqdm")
    code = f"import sys, producers.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
