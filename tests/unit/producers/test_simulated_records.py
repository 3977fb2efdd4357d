"""Unit tests of what a simulated run publishes, without Kafka: the run definitions
(producers/device_runs.py), their simulators (producers/device_simulators.py), the records of a run
(producers/simulated.py) and their label messages."""

from __future__ import annotations

import json
import time

import pytest

from fieldstream.contracts import decode_audio, decode_frame, decode_message
from fieldstream.modality import AUDIO, AUDIO_CHUNK_SECONDS, VISION
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW, LABELS
from producers.device_runs import AudioRun, FrameRun, SimulatedRun, device_ids
from producers.device_simulators import (
    CameraSimulators,
    RecorderSimulators,
    check_options,
    chunk_outgoing,
    device_simulators,
)
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator
from producers.record_blocks import RecordBlock
from producers.simulated import simulated_records
from producers.soundscape import SoundscapeConfig, SoundscapeSimulator

START = 1_790_000_000_000


def test_simulated_frames_round_robin_with_matching_labels():
    run = FrameRun(devices=2, device_prefix="t", count=3, width=160, height=120, seed=4, start_time_ms=START)
    items = list(simulated_records(run))
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
    [item] = list(simulated_records(FrameRun(count=1, width=160, height=120, labels=False)))
    assert item.label is None
    assert before <= decode_frame(item.record.value, item.record.headers).captured_at <= before + 60_000


def test_simulated_chunks_round_robin_with_species_labels():
    run = AudioRun(devices=2, device_prefix="r", chunks_per_session=2, seed=3, start_time_ms=START)
    items = list(simulated_records(run))
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


def test_simulated_chunks_are_each_recorder_simulators_chunks_in_order():
    run = AudioRun(
        devices=2, device_prefix="r", sessions=2, chunks_per_session=2, seed=5, start_time_ms=START
    )
    streams = [
        SoundscapeSimulator(
            SoundscapeConfig(device_id=d, sessions=2, chunks_per_session=2, seed=5, start_time_ms=START)
        ).chunks()
        for d in ("r-0", "r-1")
    ]
    expected = [chunk_outgoing(next(s), True, run.max_payload) for _ in range(4) for s in streams]
    assert list(simulated_records(run)) == expected


def test_runs_know_their_modality_size_and_pace():
    frames = FrameRun(devices=3, count=7, fps=4.0)
    assert frames.modality is VISION and frames.per_device == 7 and frames.total == 21
    assert frames.interval_s == 0.25 and frames.device_ids() == ["boom-0", "boom-1", "boom-2"]
    assert FrameRun(count=None).total is None  # until stopped
    sound = AudioRun(devices=2, sessions=3, chunks_per_session=4)
    assert sound.modality is AUDIO and sound.per_device == 12 and sound.total == 24
    assert sound.interval_s == AUDIO_CHUNK_SECONDS and sound.device_ids() == ["recorder-0", "recorder-1"]
    with pytest.raises(TypeError):
        SimulatedRun()  # only its kinds are runs
    with pytest.raises(ValueError, match="devices"):
        device_ids("x", 0)


def test_started_fixes_the_start_time_once():
    before = int(time.time() * 1000)
    started = AudioRun().started()
    assert started.start_time_ms is not None and before <= started.start_time_ms <= before + 60_000
    assert started.started() is started
    fixed = FrameRun(start_time_ms=5)
    assert fixed.started() is fixed


def test_each_kind_of_run_gets_its_own_simulators():
    frames = FrameRun(devices=2, width=160, height=120, seed=2, drift_at_s=3.0, start_time_ms=START)
    cameras = device_simulators(frames)
    assert isinstance(cameras, CameraSimulators)
    assert cameras.configs == [
        FieldCameraConfig(device_id=d, width=160, height=120, seed=2, drift_at_s=3.0, start_time_ms=START)
        for d in ("boom-0", "boom-1")
    ]
    sound = AudioRun(chunks_per_session=3, call_density=2.0, new_species="comloo", start_time_ms=START)
    recorders = device_simulators(sound)
    assert isinstance(recorders, RecorderSimulators)
    assert recorders.configs == [
        SoundscapeConfig(
            device_id="recorder-0", chunks_per_session=3, call_density=2.0, new_species="comloo",
            start_time_ms=START,
        )
    ]  # fmt: skip
    with pytest.raises(ValueError, match="started"):
        device_simulators(AudioRun())


def test_a_block_renders_the_same_records_as_one_record_at_a_time():
    run = AudioRun(devices=2, chunks_per_session=4, seed=8, start_time_ms=START)
    block = device_simulators(run)(RecordBlock(device=1, start=1, count=3))
    one_by_one = [device_simulators(run)(RecordBlock(1, start, 1))[0] for start in (1, 2, 3)]
    assert block == one_by_one
    assert [decode_audio(i.record.value, i.record.headers).chunk_id for i in block] == [
        f"recorder-1-s000-c000{k}" for k in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    "run",
    [
        FrameRun(new_weed_kind="maize"),
        FrameRun(jpeg_quality=0),
        FrameRun(fps=-1.0),
        AudioRun(species_pool=("nope",)),
        AudioRun(drift_at_s=10.0),
        AudioRun(devices=0),
    ],
)
def test_bad_options_fail_before_anything_is_rendered(run):
    with pytest.raises(ValueError):
        check_options(run)
