"""``fieldstream produce`` against the session's real Kafka: simulated frames and chunks from two
devices, a YOLO folder replay, an audio folder replay (OGG, FLAC, 44.1 kHz stereo WAV, a corrupt
file), and a clean stop on SIGTERM. Every test uses its own uuid device ids and filters what it
consumes by them."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile
from kafka_reading import consume_until
from PIL import Image

from app.cli import main
from fieldstream.contracts import decode_audio, decode_frame, decode_message
from fieldstream.paths import PROJECT_ROOT
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW, LABELS
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator

SETTLE_S = 2.0  # after the expected records arrived, keep reading this long to catch extras


@pytest.fixture(autouse=True)
def _restore_logging():
    """``main()`` configures the root logger (a CLI boundary); put pytest's handlers back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _produce(settings, capsys, *argv: str) -> dict:
    code = main(["produce", *argv, "--data-dir", str(settings.data_dir), "--json", "--quiet"])
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    assert code == 0, summary
    return summary


def _read(consumer, keys: set[bytes], expected: int, timeout_s: float = 180.0) -> list:
    def done(msgs: list) -> bool:
        return sum(m.key() in keys for m in msgs) >= expected

    got = consume_until(consumer, done, timeout_s)
    got += consume_until(consumer, lambda _msgs: False, SETTLE_S)
    return [m for m in got if m.key() in keys]


def _by_topic(msgs: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for m in msgs:
        out.setdefault(m.topic(), []).append(m)
    return out


def test_frames_and_chunks_from_two_devices_arrive_once_each_with_one_label(
    settings, consumer_factory, capsys
):
    tag = uuid.uuid4().hex[:8]
    consumer = consumer_factory(FRAMES_RAW, AUDIO_RAW, LABELS)
    frames = _produce(
        settings,
        capsys,
        "frames",
        "--devices",
        "2",
        "--device-prefix",
        f"cam{tag}",
        "--count",
        "5",
        "--width",
        "320",
        "--height",
        "240",
        "--seed",
        "11",
    )
    audio = _produce(
        settings,
        capsys,
        "audio",
        "--devices",
        "2",
        "--device-prefix",
        f"rec{tag}",
        "--chunks-per-session",
        "3",
        "--seed",
        "12",
    )
    assert frames["topics"][FRAMES_RAW]["sent"] == 10 and frames["topics"][LABELS]["sent"] == 10
    assert audio["topics"][AUDIO_RAW]["sent"] == 6 and audio["failed"] == 0

    keys = {f"cam{tag}-{d}".encode() for d in range(2)} | {f"rec{tag}-{d}".encode() for d in range(2)}
    topics = _by_topic(_read(consumer, keys, expected=10 + 6 + 16))
    decoded_frames = [decode_frame(m.value(), m.headers()) for m in topics[FRAMES_RAW]]
    decoded_chunks = [decode_audio(m.value(), m.headers()) for m in topics[AUDIO_RAW]]
    assert Counter(f.device_id for f in decoded_frames) == {f"cam{tag}-0": 5, f"cam{tag}-1": 5}
    assert Counter(c.device_id for c in decoded_chunks) == {f"rec{tag}-0": 3, f"rec{tag}-1": 3}
    assert all(
        m.key().decode() == f.device_id for m, f in zip(topics[FRAMES_RAW], decoded_frames, strict=True)
    )
    now_ms = time.time() * 1000
    assert all(abs(f.captured_at - now_ms) < 10 * 60_000 for f in decoded_frames)  # real UTC, near now
    assert all(c.sample_rate == 32_000 and c.content_type == "audio/wav" for c in decoded_chunks)

    labels = [decode_message(LABELS, m.value()) for m in topics[LABELS]]
    frame_labels = Counter((lb["device_id"], lb["frame_id"]) for lb in labels if lb["target"] == "frame")
    chunk_labels = Counter((lb["device_id"], lb["chunk_id"]) for lb in labels if lb["target"] == "chunk")
    assert frame_labels == Counter((f.device_id, f.frame_id) for f in decoded_frames)
    assert chunk_labels == Counter((c.device_id, c.chunk_id) for c in decoded_chunks)
    assert all(lb["source"] == "simulator" for lb in labels)
    assert sum(len(lb["boxes"]) for lb in labels if lb["target"] == "frame") > 0


def _yolo_folder(root: Path) -> dict[str, list[list[float]]]:
    """Six simulated frames as a YOLO dataset (JPEG and PNG), labels written as YOLO txt."""
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    (root / "data.yaml").write_text("names:\n  0: crop\n  1: weed\n")
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="yolo-src", width=320, height=240, seed=5))
    expected = {}
    for frame in sim.frames(6):
        stem = f"field_{frame.index:03d}"
        fmt, suffix = ("PNG", ".png") if frame.index % 3 == 2 else ("JPEG", ".jpg")
        Image.fromarray(frame.image).save(root / "images" / "train" / f"{stem}{suffix}", format=fmt)
        lines = [
            " ".join(f"{v:.6f}" for v in ((b.x1 + b.x2) / 2, (b.y1 + b.y2) / 2, b.x2 - b.x1, b.y2 - b.y1))
            for b in frame.boxes
        ]
        lines = [f"{b.class_id} {line}" for b, line in zip(frame.boxes, lines, strict=True)]
        (root / "labels" / "train" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
        expected[f"train/{stem}"] = [[b.class_id, b.x1, b.y1, b.x2, b.y2] for b in frame.boxes]
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buf, format="JPEG")
    (root / "images" / "train" / "zz_corrupt.jpg").write_bytes(buf.getvalue()[:200])
    return expected


def test_replay_yolo_folder_publishes_every_image_and_its_labels(
    settings, consumer_factory, capsys, tmp_path
):
    expected = _yolo_folder(tmp_path / "ds")
    device = f"yolo-{uuid.uuid4().hex[:8]}"
    consumer = consumer_factory(FRAMES_RAW, LABELS)
    summary = _produce(settings, capsys, "replay-images", str(tmp_path / "ds"), "--device-id", device)
    assert summary["topics"][FRAMES_RAW]["sent"] == 6 and summary["skipped"] == 1
    assert summary["skipped_files"][0]["path"].endswith("zz_corrupt.jpg")

    topics = _by_topic(_read(consumer, {device.encode()}, expected=12))
    frames = {f.frame_id: f for f in (decode_frame(m.value(), m.headers()) for m in topics[FRAMES_RAW])}
    assert sorted(frames) == sorted(expected)
    for frame_id, frame in frames.items():
        suffix = ".png" if frame.content_type == "image/png" else ".jpg"
        assert frame.image == (tmp_path / "ds" / "images" / f"{frame_id}{suffix}").read_bytes()
    labels = [decode_message(LABELS, m.value()) for m in topics[LABELS]]
    assert sorted(lb["frame_id"] for lb in labels) == sorted(expected)
    for label in labels:
        assert label["source"] == "dataset"
        got = [[b["class_id"], *b["xyxy"]] for b in label["boxes"]]
        assert got == [pytest.approx(row, abs=2e-6) for row in expected[label["frame_id"]]]
        assert {b["class_name"] for b in label["boxes"]} <= {"crop", "weed"}


def _tone(freq: float, rate: int, seconds: float, channels: int) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    wave = (0.4 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


def test_replay_audio_folder_gives_5s_32k_mono_chunks_and_skips_a_corrupt_file(
    settings, consumer_factory, capsys, tmp_path
):
    root = tmp_path / "train_audio"
    (root / "spa").mkdir(parents=True)
    soundfile.write(
        root / "spa" / "walk.ogg", _tone(1500, 22_050, 12.0, 1), 22_050, format="OGG", subtype="VORBIS"
    )
    soundfile.write(root / "spa" / "pond.flac", _tone(900, 48_000, 7.0, 2), 48_000, format="FLAC")
    soundfile.write(root / "meadow.wav", _tone(2000, 44_100, 11.0, 2), 44_100, subtype="PCM_16")
    (root / "broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(64))
    (tmp_path / "train.csv").write_text(
        "primary_label,secondary_labels,filename\nspa,\"['spb']\",spa/walk.ogg\nspa,[],spa/pond.flac\n"
    )
    device = f"aud-{uuid.uuid4().hex[:8]}"
    consumer = consumer_factory(AUDIO_RAW, LABELS)
    summary = _produce(settings, capsys, "replay-audio", str(root), "--device-id", device)
    # walk.ogg 12 s -> 2 + padded 2 s; pond.flac 7 s -> 1 + padded 2 s; meadow.wav 11 s -> 2 + padded 1 s
    assert summary["topics"][AUDIO_RAW]["sent"] == 8 and summary["topics"][LABELS]["sent"] == 5
    assert [s["path"].rsplit("/", 1)[-1] for s in summary["skipped_files"]] == ["broken.wav"]
    assert summary["files"] == 4 and summary["labelled_files"] == 2

    topics = _by_topic(_read(consumer, {device.encode()}, expected=8 + 5))
    chunks = [decode_audio(m.value(), m.headers()) for m in topics[AUDIO_RAW]]
    assert Counter(c.session_id for c in chunks) == {"walk": 3, "pond": 2, "meadow": 3}
    assert sorted(c.chunk_id for c in chunks if c.session_id == "walk") == [
        "walk-c0000",
        "walk-c0001",
        "walk-c0002",
    ]
    for chunk in chunks:
        info = soundfile.info(io.BytesIO(chunk.audio))
        assert (info.samplerate, info.channels, info.frames) == (32_000, 1, 160_000)
        assert chunk.sample_rate == 32_000
    labels = [decode_message(LABELS, m.value()) for m in topics[LABELS]]
    assert {lb["chunk_id"]: lb["species"] for lb in labels if lb["session_id"] == "walk"} == {
        f"walk-c000{k}": ["spa", "spb"] for k in range(3)
    }
    assert all(lb["source"] == "dataset" for lb in labels) and len(labels) == 5


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_stops_cleanly_and_everything_counted_as_sent_is_in_kafka(
    settings, consumer_factory, signum, code
):
    prefix = f"stop{uuid.uuid4().hex[:8]}"
    consumer = consumer_factory(FRAMES_RAW)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",  # the `fieldstream` command
            "produce",
            "frames",
            "--count",
            "0",
            "--fps",
            "25",
            "--width",
            "320",
            "--height",
            "240",
            "--device-prefix",
            prefix,
            "--data-dir",
            str(settings.data_dir),
            "--json",
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        key = f"{prefix}-0".encode()
        first = consume_until(consumer, lambda ms: sum(m.key() == key for m in ms) >= 10, 60)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stopped_by"] == signal.Signals(signum).name and summary["undelivered"] == 0
    got = [m for m in first + consume_until(consumer, lambda _: False, SETTLE_S + 3) if m.key() == key]
    assert len(got) == summary["topics"][FRAMES_RAW]["sent"] >= 10
