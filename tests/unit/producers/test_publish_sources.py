"""Unit tests of what ``fieldstream produce`` publishes, without Kafka: the simulated sources
(producers/simulated.py), label messages, and the CLI's options, help and usage errors."""

from __future__ import annotations

import json
import time

import pytest

from fieldstream.cli import build_parser, produce_commands
from fieldstream.contracts import decode_audio, decode_frame, decode_message
from fieldstream.kafka.config import MAX_MESSAGE_BYTES
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW, LABELS
from producers.field_camera import (
    DRIFT_WEED_KINDS,
    SEASONS,
    WEED_KINDS,
    FieldCameraConfig,
    FieldCameraSimulator,
)
from producers.simulated import DEFAULT_CAMERA_FPS, AudioRun, FrameRun, simulated_chunks, simulated_frames
from producers.soundscape import CHUNK_SECONDS, DRIFT_SPECIES_IDS


def test_simulated_frames_round_robin_with_matching_labels():
    run = FrameRun(
        devices=2, device_prefix="t", count=3, width=160, height=120, seed=4, start_time_ms=1_790_000_000_000
    )
    items = list(simulated_frames(run))
    frames = [decode_frame(i.record.value, i.record.headers) for i in items]
    assert [(f.device_id, f.frame_id) for f in frames] == [
        (f"t-{d}", f"t-{d}-{i:08d}") for i in range(3) for d in range(2)
    ]
    assert [f.captured_at for f in frames[::2]] == [1_790_000_000_000, 1_790_000_000_100, 1_790_000_000_200]
    assert all(
        i.topic == FRAMES_RAW and f.content_type == "image/jpeg" for i, f in zip(items, frames, strict=True)
    )
    assert frames[0].speed_mps == 6.0 and frames[0].lat is not None
    truth = FieldCameraSimulator(FieldCameraConfig(device_id="t-1", width=160, height=120, seed=4)).frame(2)
    label = decode_message(LABELS, items[5].label.value)
    assert (
        label["frame_id"] == "t-1-00000002"
        and label["source"] == "simulator"
        and items[5].label.key == b"t-1"
    )
    assert [(b["class_name"], b["kind"]) for b in label["boxes"]] == [
        (b.class_name, b.kind) for b in truth.boxes
    ]
    assert [b["xyxy"] for b in label["boxes"]] == [
        pytest.approx([b.x1, b.y1, b.x2, b.y2]) for b in truth.boxes
    ]


def test_simulated_frames_default_to_now_and_can_skip_labels():
    before = int(time.time() * 1000)
    [item] = list(simulated_frames(FrameRun(count=1, width=160, height=120, labels=False)))
    assert item.label is None
    assert before <= decode_frame(item.record.value, item.record.headers).captured_at <= before + 60_000


def test_simulated_chunks_round_robin_with_species_labels():
    run = AudioRun(
        devices=2, device_prefix="r", chunks_per_session=2, seed=3, start_time_ms=1_790_000_000_000
    )
    items = list(simulated_chunks(run))
    chunks = [decode_audio(i.record.value, i.record.headers) for i in items]
    assert [c.chunk_id for c in chunks] == [
        "r-0-s000-c0000",
        "r-1-s000-c0000",
        "r-0-s000-c0001",
        "r-1-s000-c0001",
    ]
    assert [c.captured_at for c in chunks[::2]] == [1_790_000_000_000, 1_790_000_005_000]
    assert all(i.topic == AUDIO_RAW and c.sample_rate == 32_000 for i, c in zip(items, chunks, strict=True))
    labels = [json.loads(i.label.value) for i in items]
    assert [(label["chunk_id"], label["session_id"]) for label in labels] == [
        (c.chunk_id, c.session_id) for c in chunks
    ]
    assert all(label["target"] == "chunk" and isinstance(label["species"], list) for label in labels)
    assert run.total == 4


def test_cli_constants_match_the_simulators():
    assert produce_commands.CAMERA_FPS == DEFAULT_CAMERA_FPS
    assert produce_commands.CHUNK_SECONDS == CHUNK_SECONDS
    assert produce_commands.MIN_QUEUE_MB * 1024 * 1024 == MAX_MESSAGE_BYTES
    assert all(kind in produce_commands.WEED_KINDS_HELP for kind in (*WEED_KINDS, *DRIFT_WEED_KINDS))
    assert all(species in produce_commands.NEW_SPECIES_HELP for species in DRIFT_SPECIES_IDS)
    season = next(a for a in _subparser("frames")._actions if a.dest == "season")
    assert tuple(season.choices) == SEASONS


def _subparser(verb: str):
    parser = build_parser()
    produce = parser._subparsers._group_actions[0].choices["produce"]
    return produce._subparsers._group_actions[0].choices[verb]


@pytest.mark.parametrize("verb", ["frames", "audio", "replay-images", "replay-audio"])
def test_every_command_has_help(verb, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["produce", verb, "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--json" in text and "--quiet" in text and len(text) > 800


def test_start_time_accepts_epoch_ms_and_iso8601():
    parse = produce_commands._start_time
    assert parse("1790000000123") == 1_790_000_000_123
    assert parse("2026-11-20T10:00:00Z") == parse("2026-11-20T10:00:00") == 1_795_168_800_000
    assert parse("2026-11-20T11:00:00+01:00") == 1_795_168_800_000


@pytest.mark.parametrize(
    "argv",
    [
        ["frames", "--new-weed-kind", "maize"],
        ["frames", "--jpeg-quality", "0"],
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
