"""The PyFlink feature job against real Kafka, PostgreSQL and Redis (no mocks).

One job (``fieldstream features run`` in a subprocess, local MiniCluster) runs for the module on its
own uuid-named raw topics (one partition each, so event time is simple to reason about); the tests
publish simulated frames and chunks and check every place the features land, the media archive,
the dead letters, exact window aggregates, and a stop/restart. Timestamps: the first tests use "now",
the window tests minutes in the future (records later than the watermark are not aggregated).
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psycopg2
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_reading import consume_until
from PIL import Image

from feature_store.archive import open_archive
from feature_store.features import (
    AUDIO_FEATURE_NAMES,
    FRAME_FEATURE_NAMES,
    audio_features_batch,
    frame_features_batch,
)
from feature_store.online import RedisOnlineStore
from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame, header_value
from fieldstream.topics import DEADLETTER, FEATURES_AUDIO, FEATURES_FRAMES
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator
from producers.soundscape import SoundscapeConfig, SoundscapeSimulator
from stream_jobs.features.launcher import FeatureJobProcess
from stream_jobs.features.windows import WINDOW_MS, WindowRecord, WindowSpec, reference_aggregates

SUFFIX = uuid.uuid4().hex[:8]
START_TIMEOUT_S = 180
LAND_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def topics(settings) -> dict[str, str]:
    names = {"frames": f"frames.raw.test-{SUFFIX}", "audio": f"audio.raw.test-{SUFFIX}"}
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    config = {"max.message.bytes": "10485760"}
    for future in admin.create_topics([NewTopic(t, 1, 1, config=config) for t in names.values()]).values():
        future.result(30)
    return names


@pytest.fixture(scope="module")
def job(settings, topics, tmp_path_factory) -> Iterator[FeatureJobProcess]:
    log = tmp_path_factory.mktemp("feature-job") / "job.log"
    args = ["--job-name", f"test-{SUFFIX}", "--group-id", f"test-{SUFFIX}"]
    args += ["--frames-topic", topics["frames"], "--audio-topic", topics["audio"]]
    args += ["--checkpoint-interval", "2"]
    feature_job = FeatureJobProcess(settings.data_dir, log, args).start(START_TIMEOUT_S)
    yield feature_job
    feature_job.stop()


@pytest.fixture(scope="module")
def frames() -> list[bytes]:
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="cam", seed=11))
    return [sim.encode(f) for f in sim.frames(6)]  # 640x480 JPEGs


@pytest.fixture(scope="module")
def chunks() -> list[tuple[str, bytes]]:
    sim = SoundscapeSimulator(SoundscapeConfig(device_id="rec", seed=5))
    return [(c.session_id, c.to_wav()) for c in sim.chunks(3)]


def frame_direct(jpeg: bytes) -> dict[str, float]:
    """The features the job must produce, computed directly (same PIL decoding)."""
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    return {k: float(v[0]) for k, v in frame_features_batch(image[np.newaxis]).items()}


def chunk_direct(wav: bytes) -> dict[str, float]:
    import soundfile

    wave, rate = soundfile.read(io.BytesIO(wav), dtype="float32")
    return {k: float(v[0]) for k, v in audio_features_batch(wave[np.newaxis], rate).items()}


def publish_frames(
    producer, topic: str, device: str, items: list[tuple[int, bytes]], prefix: str
) -> list[str]:
    ids = []
    for i, (ts, jpeg) in enumerate(items):
        frame_id = f"{prefix}-{i:03d}"
        rec = encode_frame(FrameRecord(device, frame_id, ts, "image/jpeg", jpeg, lat=52.1, speed_mps=6.0))
        producer.produce(topic, key=rec.key, value=rec.value, headers=rec.headers)
        ids.append(frame_id)
    producer.flush(30)
    return ids


def publish_chunks(
    producer, topic: str, device: str, items: list[tuple[int, str, bytes]], prefix: str
) -> list[str]:
    ids = []
    for i, (ts, session, wav) in enumerate(items):
        chunk_id = f"{prefix}-{i:03d}"
        rec = encode_audio(AudioRecord(device, chunk_id, session, ts, 32_000, wav))
        producer.produce(topic, key=rec.key, value=rec.value, headers=rec.headers)
        ids.append(chunk_id)
    producer.flush(30)
    return ids


def wait_for(what: str, fetch: Callable[[], Any], done: Callable[[Any], bool], job: FeatureJobProcess) -> Any:
    deadline = time.monotonic() + LAND_TIMEOUT_S
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {value!r} after {LAND_TIMEOUT_S} s; job log:\n{job.tail()}")
        time.sleep(1)


def query(settings, sql: str, args: tuple = ()) -> list[tuple]:
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def feature_rows(settings, table: str, id_col: str, device: str) -> dict[str, tuple]:
    rows = query(
        settings,
        f"SELECT {id_col}, (extract(epoch FROM captured_at) * 1000)::bigint, features, feature_set"
        f" FROM {table} WHERE device_id = %s",
        (device,),
    )
    return {r[0]: r[1:] for r in rows}


def test_features_land_in_kafka_postgres_and_redis_equal_to_direct_computation(
    job, topics, producer, consumer_factory, settings, frames, chunks
):
    device, recorder = f"boom-{SUFFIX}", f"rec-{SUFFIX}"
    now = int(time.time() * 1000) - 60_000
    features_consumer = consumer_factory(FEATURES_FRAMES, FEATURES_AUDIO)
    frame_ids = publish_frames(
        producer, topics["frames"], device, [(now + i * 100, f) for i, f in enumerate(frames)], device
    )
    chunk_ids = publish_chunks(
        producer,
        topics["audio"],
        recorder,
        [(now + i * 5000, s, w) for i, (s, w) in enumerate(chunks)],
        recorder,
    )
    expected_frames = {fid: frame_direct(jpeg) for fid, jpeg in zip(frame_ids, frames, strict=True)}
    expected_chunks = {cid: chunk_direct(wav) for cid, (_, wav) in zip(chunk_ids, chunks, strict=True)}

    pg_frames = wait_for(
        "frame features in PostgreSQL",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda rows: len(rows) == len(frame_ids),
        job,
    )
    for fid, (captured, features, feature_set) in pg_frames.items():
        assert features == expected_frames[fid]  # exact: JSON keeps every double
        assert feature_set == "v1" and captured == now + frame_ids.index(fid) * 100
    pg_chunks = wait_for(
        "audio features in PostgreSQL",
        lambda: feature_rows(settings, "audio_features", "chunk_id", recorder),
        lambda rows: len(rows) == len(chunk_ids),
        job,
    )
    for cid, (_, features, _) in pg_chunks.items():
        # batched numpy reductions may differ from a one-chunk call in the last bits
        assert features == pytest.approx(expected_chunks[cid], rel=1e-12, abs=1e-12)

    # Kafka: one JSON message per record, keyed by device
    seen: dict[str, dict] = {}

    def collect(msgs: list) -> bool:
        for m in msgs[len(seen_msgs) :]:
            seen_msgs.append(m)
            body = json.loads(m.value())
            if body["device_id"] in (device, recorder):
                assert m.key() == body["device_id"].encode()
                seen[body.get("frame_id") or body["chunk_id"]] = body
        return len(seen) == len(frame_ids) + len(chunk_ids)

    seen_msgs: list = []
    consume_until(features_consumer, collect, timeout_s=LAND_TIMEOUT_S)
    assert {k: seen[k]["features"] for k in frame_ids} == expected_frames
    for cid in chunk_ids:
        assert seen[cid]["session_id"] == chunks[chunk_ids.index(cid)][0]
        assert seen[cid]["features"] == pytest.approx(expected_chunks[cid], rel=1e-12, abs=1e-12)

    # Redis: the latest record per device and per session
    store = RedisOnlineStore.from_url(settings.redis_url)
    latest = store.read_latest("frames", "device", device)
    assert latest is not None and latest.item_id == frame_ids[-1]
    assert dict(latest.features) == expected_frames[frame_ids[-1]]
    assert latest.captured_at == now + (len(frames) - 1) * 100
    assert 0 < (store.ttl_seconds("frames", "device", device) or 0) <= 24 * 3600
    last_session = chunks[-1][0]
    by_session = store.read_latest("audio", "session", last_session)
    assert by_session is not None and by_session.item_id == chunk_ids[-1]
    assert store.read_latest("audio", "device", recorder).item_id == chunk_ids[-1]


def test_archived_media_read_back_byte_identical_with_metadata_rows(
    job, topics, producer, settings, frames, chunks
):
    device, recorder = f"arch-{SUFFIX}", f"archrec-{SUFFIX}"
    now = int(time.time() * 1000) - 30_000
    frame_ids = publish_frames(
        producer, topics["frames"], device, [(now + i, f) for i, f in enumerate(frames[:3])], device
    )
    chunk_ids = publish_chunks(
        producer, topics["audio"], recorder, [(now, chunks[0][0], chunks[0][1])], recorder
    )
    rows = wait_for(
        "frames rows",
        lambda: query(
            settings,
            "SELECT frame_id, media_uri, size_bytes, content_type, lat, speed_mps FROM frames"
            " WHERE device_id = %s",
            (device,),
        ),
        lambda r: len(r) == 3,
        job,
    )
    archive = open_archive(settings.data_dir / "media")
    for frame_id, uri, size, content_type, lat, speed in rows:
        original = frames[frame_ids.index(frame_id)]
        assert archive.get(uri) == original
        assert (size, content_type, lat, speed) == (len(original), "image/jpeg", 52.1, 6.0)
    [(chunk_id, uri, size, rate, session)] = wait_for(
        "audio_chunks rows",
        lambda: query(
            settings,
            "SELECT chunk_id, media_uri, size_bytes, sample_rate, session_id FROM audio_chunks"
            " WHERE device_id = %s",
            (recorder,),
        ),
        lambda r: len(r) == 1,
        job,
    )
    assert chunk_id == chunk_ids[0] and archive.get(uri) == chunks[0][1]
    assert (size, rate, session) == (len(chunks[0][1]), 32_000, chunks[0][0])
    assert not list((settings.data_dir / "media").rglob("*.tmp"))


def test_corrupt_records_go_to_deadletter_and_the_job_keeps_running(
    job, topics, producer, consumer_factory, settings, frames
):
    device = f"bad-{SUFFIX}"
    dead = consumer_factory(DEADLETTER)
    now = int(time.time() * 1000)
    good = encode_frame(FrameRecord(device, f"{device}-ok", now, "image/jpeg", frames[0]))
    corrupt_jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    no_type = [(k, v) for k, v in good.headers if k != "content_type"]
    bad_wav = encode_audio(AudioRecord(device, f"{device}-c", "s", now, 32_000, b"RIFF" + b"\x00" * 40))
    producer.produce(topics["frames"], key=good.key, value=corrupt_jpeg, headers=good.headers)
    producer.produce(topics["frames"], key=good.key, value=good.value, headers=no_type)
    producer.produce(topics["audio"], key=bad_wav.key, value=bad_wav.value, headers=bad_wav.headers)
    producer.flush(30)

    def mine(msgs: list) -> list:
        return [m for m in msgs if header_value(m.headers(), "device_id") == device]

    got = mine(consume_until(dead, lambda ms: len(mine(ms)) == 3, timeout_s=LAND_TIMEOUT_S))
    by_error_type = {header_value(m.headers(), "error_type"): m for m in got}
    assert set(by_error_type) == {"MediaDecodeError", "MissingHeaderError"} and len(got) == 3
    jpeg_dead = next(m for m in got if m.value() == corrupt_jpeg)
    assert header_value(jpeg_dead.headers(), "source_topic") == topics["frames"]
    assert header_value(jpeg_dead.headers(), "source_offset") is not None
    assert header_value(jpeg_dead.headers(), "error").startswith("image bytes could not be decoded")
    assert header_value(jpeg_dead.headers(), "frame_id") == f"{device}-ok"  # original headers kept
    missing = by_error_type["MissingHeaderError"]
    assert (
        missing.value() == good.value
        and header_value(missing.headers(), "error") == "header content_type missing"
    )
    wav_dead = next(m for m in got if header_value(m.headers(), "source_topic") == topics["audio"])
    assert header_value(wav_dead.headers(), "error").startswith("audio bytes could not be decoded")

    # still alive: a good record published afterwards is processed
    producer.produce(topics["frames"], key=good.key, value=good.value, headers=good.headers)
    producer.flush(30)
    wait_for(
        "a good frame after the bad ones",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda rows: f"{device}-ok" in rows,
        job,
    )
    assert job.proc.poll() is None and job.ready()


def _future_minute(minutes_ahead: int) -> int:
    now = int(time.time() * 1000)
    return now - now % WINDOW_MS + minutes_ahead * WINDOW_MS


def window_rows(settings, table: str, device: str) -> dict[int, dict[str, Any]]:
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {table} WHERE device_id = %s", (device,))
        names = [d.name for d in cur.description]
        out = {}
        for row in cur.fetchall():
            rec = dict(zip(names, row, strict=True))
            for k in ("window_start", "window_end", "first_captured_at", "last_captured_at"):
                rec[k] = int(rec[k].timestamp() * 1000)
            out[rec["window_start"]] = rec
    return out


def assert_window_matches(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for column, value in expected.items():
        if isinstance(value, int):
            assert row[column] == value, column
        else:
            assert row[column] == pytest.approx(value, rel=1e-12, abs=1e-12), column


def test_controlled_sequence_gives_the_exact_one_minute_aggregates(
    job, topics, producer, settings, frames, chunks
):
    device, recorder = f"win-{SUFFIX}", f"winrec-{SUFFIX}"
    base = _future_minute(3)
    offsets = [0, 5_000, 17_250, 30_000, 44_500, 59_999, 60_000, 75_000, 119_999]
    sequence = [(base + off, frames[i % len(frames)]) for i, off in enumerate(offsets)]
    closing = [(base + 130_000, frames[0])]  # pushes the watermark past both windows
    publish_frames(producer, topics["frames"], device, sequence + closing, device)
    audio_seq = [
        (base + off, chunks[i % 3][0], chunks[i % 3][1]) for i, off in enumerate([0, 20_000, 40_000])
    ]
    publish_chunks(
        producer,
        topics["audio"],
        recorder,
        [*audio_seq, (base + 70_000, chunks[0][0], chunks[0][1])],
        recorder,
    )

    spec = WindowSpec("frame_features_1m", "frames", FRAME_FEATURE_NAMES)
    direct = {jpeg: frame_direct(jpeg) for jpeg in frames}
    expected = reference_aggregates([WindowRecord(device, ts, direct[j]) for ts, j in sequence], spec)
    rows = wait_for(
        "frame window aggregates",
        lambda: window_rows(settings, "frame_features_1m", device),
        lambda r: len(r) >= 2,
        job,
    )
    assert sorted(rows) == [base, base + WINDOW_MS]  # the closing record's window is still open
    for (_, start), values in expected.items():
        assert_window_matches(rows[start], values)
        assert rows[start]["feature_set"] == "v1"
    assert rows[base]["frames"] == 6 and rows[base + WINDOW_MS]["frames"] == 3

    aspec = WindowSpec("audio_features_1m", "chunks", AUDIO_FEATURE_NAMES, with_sessions=True)
    adirect = [chunk_direct(w) for _, _, w in audio_seq]
    aexpected = reference_aggregates(
        [WindowRecord(recorder, ts, f, s) for (ts, s, _), f in zip(audio_seq, adirect, strict=True)], aspec
    )
    arows = wait_for(
        "audio window aggregate",
        lambda: window_rows(settings, "audio_features_1m", recorder),
        lambda r: base in r,
        job,
    )
    assert_window_matches(arows[base], aexpected[(recorder, base)])
    assert arows[base]["chunks"] == 3


@pytest.mark.slow
def test_stop_and_restart_writes_no_duplicate_and_loses_nothing(
    job, topics, producer, consumer_factory, settings, frames
):
    device = f"restart-{SUFFIX}"
    features_consumer = consumer_factory(FEATURES_FRAMES)
    base = _future_minute(8)
    before = [(base + i * 1000, frames[i % len(frames)]) for i in range(5)]
    after = [(base + 10_000 + i * 1000, frames[(i + 2) % len(frames)]) for i in range(5)]
    ids_before = publish_frames(producer, topics["frames"], device, before, f"{device}-a")
    wait_for(
        "frames before the stop",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda rows: len(rows) == 5,
        job,
    )
    assert job.stop() == 0  # SIGTERM: stop with a savepoint
    assert "stopped with a savepoint" in job.log_path.read_text()
    ids_after = publish_frames(producer, topics["frames"], device, after, f"{device}-b")
    publish_frames(producer, topics["frames"], device, [(base + 80_000, frames[0])], f"{device}-c")
    job.start(START_TIMEOUT_S)
    assert "resuming from a restore point" in job.log_path.read_text()
    rows = wait_for(
        "frames after the restart",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda r: len(r) == 11,
        job,
    )
    assert set(ids_before + ids_after) < set(rows)
    [(total, distinct)] = query(
        settings,
        "SELECT count(*), count(DISTINCT frame_id) FROM frame_features WHERE device_id = %s",
        (device,),
    )
    assert total == distinct == 11
    [(media_total,)] = query(settings, "SELECT count(*) FROM frames WHERE device_id = %s", (device,))
    assert media_total == 11

    # the window that spans the restart holds both halves: its state survived the stop
    spec = WindowSpec("frame_features_1m", "frames", FRAME_FEATURE_NAMES)
    direct = {jpeg: frame_direct(jpeg) for jpeg in frames}
    expected = reference_aggregates([WindowRecord(device, ts, direct[j]) for ts, j in before + after], spec)
    windows = wait_for(
        "the window spanning the restart",
        lambda: window_rows(settings, "frame_features_1m", device),
        lambda r: base in r,
        job,
    )
    assert_window_matches(windows[base], expected[(device, base)])
    assert windows[base]["frames"] == 10

    # a clean stop replays nothing: every frame is on the features topic exactly once
    counts: dict[str, int] = {}

    def collect(msgs: list) -> bool:
        counts.clear()
        for m in msgs:
            body = json.loads(m.value())
            if body["device_id"] == device:
                counts[body["frame_id"]] = counts.get(body["frame_id"], 0) + 1
        return len(counts) == 11

    consume_until(features_consumer, collect, timeout_s=LAND_TIMEOUT_S)
    assert set(counts.values()) == {1}


@pytest.mark.slow
def test_a_crash_resumes_from_the_retained_checkpoint_without_duplicate_rows(
    job, topics, producer, settings, frames
):
    device = f"crash-{SUFFIX}"
    now = int(time.time() * 1000)
    first = publish_frames(
        producer, topics["frames"], device, [(now + i, frames[i % 6]) for i in range(6)], f"{device}-a"
    )
    wait_for(
        "frames before the crash",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda rows: len(rows) == 6,
        job,
    )
    time.sleep(3)  # a checkpoint (every 2 s) completes after those rows
    job.kill()  # SIGKILL: no savepoint; the PyFlink gateway JVM and the Python workers go with it
    second = publish_frames(
        producer, topics["frames"], device, [(now + 100 + i, frames[i % 6]) for i in range(6)], f"{device}-b"
    )
    job.start(START_TIMEOUT_S)
    resumed = [
        line for line in job.log_path.read_text().splitlines() if "resuming from a restore point" in line
    ]
    assert '"kind": "checkpoint"' in resumed[-1]
    rows = wait_for(
        "frames after the crash",
        lambda: feature_rows(settings, "frame_features", "frame_id", device),
        lambda r: len(r) == 12,
        job,
    )
    assert set(rows) == set(first + second)
    [(total, distinct)] = query(
        settings, "SELECT count(*), count(DISTINCT frame_id) FROM frames WHERE device_id = %s", (device,)
    )
    assert total == distinct == 12
