"""Test helper: simulated frames and chunks as Kafka records, with their ground truth."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import Producer

from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame
from fieldstream.topics import AUDIO_RAW, FRAMES_RAW
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg
from producers.soundscape import SoundscapeConfig, SoundscapeSimulator


@dataclass
class Published:
    ids: list[str]
    truth: dict[str, object]  # id -> boxes (frames) or species tuple (chunks)
    media: dict[str, bytes]


def publish_frames(
    producer: Producer, devices: list[str], per_device: int, seed: int = 1, captured_at_offset_ms: int = 0
) -> Published:
    out = Published([], {}, {})
    now = int(time.time() * 1000) + captured_at_offset_ms
    sims = [
        FieldCameraSimulator(FieldCameraConfig(device_id=d, seed=seed + i, fps=5.0))
        for i, d in enumerate(devices)
    ]
    for frames in zip(*(s.frames(per_device) for s in sims), strict=True):
        for f in frames:
            jpeg = encode_jpeg(f.image, 85)
            rec = encode_frame(FrameRecord(f.device_id, f.frame_id, now, "image/jpeg", jpeg))
            producer.produce(FRAMES_RAW, key=rec.key, value=rec.value, headers=rec.headers)
            producer.poll(0)
            out.ids.append(f.frame_id)
            out.truth[f.frame_id] = f.boxes
            out.media[f.frame_id] = jpeg
    assert producer.flush(30) == 0
    return out


def publish_chunks(producer: Producer, devices: list[str], per_device: int, seed: int = 1) -> Published:
    out = Published([], {}, {})
    now = int(time.time() * 1000)
    for i, device in enumerate(devices):
        sim = SoundscapeSimulator(
            SoundscapeConfig(device_id=device, seed=seed + i, chunks_per_session=per_device)
        )
        for c in sim.chunks(per_device):
            wav = c.to_wav()
            rec = encode_audio(AudioRecord(device, c.chunk_id, c.session_id, now, c.sample_rate, wav))
            producer.produce(AUDIO_RAW, key=rec.key, value=rec.value, headers=rec.headers)
            producer.poll(0)
            out.ids.append(c.chunk_id)
            out.truth[c.chunk_id] = c.species
            out.media[c.chunk_id] = wav
    assert producer.flush(30) == 0
    return out
