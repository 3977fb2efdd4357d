"""History sink, history queries and the Redis online store against the real local services."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from kafka_reading import consume_until
from prometheus_client import CollectorRegistry

from app.cli import main
from feature_store.history import QUERIES, QueryParams, run_query
from feature_store.online import FeatureRow, RedisOnlineStore
from fieldstream.contracts import encode_message, header_value
from fieldstream.topics import ACTIONS_SPRAY, DEADLETTER, DETECTIONS_AUDIO, DETECTIONS_VISION, LABELS
from stream_jobs.history.metrics import SinkMetrics
from stream_jobs.history.sink import HistorySink, HistorySinkConfig

SUFFIX = uuid.uuid4().hex[:8]
MINUTE = 60_000
T0 = 1_790_000_040_000  # a minute boundary
MODEL = {"name": "weednet", "version": "7"}


@pytest.fixture(scope="module")
def topics(settings) -> dict[str, str]:
    names = {c: f"{c}.test-{SUFFIX}" for c in (DETECTIONS_VISION, DETECTIONS_AUDIO, LABELS, ACTIONS_SPRAY)}
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for future in admin.create_topics([NewTopic(t, 2, 1) for t in names.values()]).values():
        future.result(30)
    return names


@pytest.fixture(scope="module")
def sink(settings, topics) -> Iterator[HistorySink]:
    config = HistorySinkConfig(group_id=f"history-{SUFFIX}", topics=topics, batch_size=200)
    history = HistorySink(settings, config, SinkMetrics(CollectorRegistry()))
    thread = threading.Thread(target=history.run, daemon=True)
    thread.start()
    yield history
    history.stop()
    thread.join(30)
    assert not thread.is_alive()


def _box(name: str, score: float = 0.9) -> dict:
    return {
        "class_id": 0 if name == "crop" else 1,
        "class_name": name,
        "score": score,
        "xyxy": [0.1, 0.1, 0.2, 0.2],
    }


def _label_box(name: str) -> dict:
    return {"class_id": 0 if name == "crop" else 1, "class_name": name, "xyxy": [0.1, 0.1, 0.2, 0.2]}


def _send(producer, topic: str, contract: str, key: str, message: dict) -> None:
    producer.produce(topic, key=key.encode(), value=encode_message(contract, message))


def _count(settings, table: str, where: str, args: tuple) -> int:
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table} WHERE {where}", args)
        return cur.fetchone()[0]


def _wait(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.5)


def test_sink_upserts_every_topic_idempotently_and_dead_letters_bad_messages(
    sink, topics, producer, consumer_factory, settings
):
    boom, labelled, rec = f"boom-{SUFFIX}", f"lab-{SUFFIX}", f"rec-{SUFFIX}"
    dead = consumer_factory(DEADLETTER)
    for i in range(3):  # minute 0: detections with 1, 2, 3 weeds
        weeds = [_box("weed")] * (i + 1)
        _send(
            producer,
            topics[DETECTIONS_VISION],
            DETECTIONS_VISION,
            boom,
            {
                "device_id": boom,
                "frame_id": f"{boom}-{i}",
                "captured_at": T0 + i * 1000,
                "produced_at": T0 + i * 1000 + 40,
                "model": MODEL,
                "boxes": [_box("crop"), *weeds],
            },
        )
    for i in range(2):  # labels only, for another device and minute
        _send(
            producer,
            topics[LABELS],
            LABELS,
            labelled,
            {
                "target": "frame",
                "device_id": labelled,
                "frame_id": f"{labelled}-{i}",
                "captured_at": T0 + MINUTE + i,
                "source": "simulator",
                "boxes": [_label_box("weed")] * (2 * i + 1),
            },
        )
    _send(
        producer,
        topics[DETECTIONS_AUDIO],
        DETECTIONS_AUDIO,
        rec,
        {
            "device_id": rec,
            "chunk_id": f"{rec}-0",
            "session_id": f"{rec}-s1",
            "captured_at": T0,
            "produced_at": T0 + 90,
            "model": MODEL,
            "species": [
                {"id": "eurrob1", "name": "European Robin", "score": 0.8},
                {"id": "comcuc", "score": 0.4},
            ],
        },
    )
    _send(
        producer,
        topics[DETECTIONS_AUDIO],
        DETECTIONS_AUDIO,
        rec,
        {
            "device_id": rec,
            "chunk_id": f"{rec}-1",
            "session_id": f"{rec}-s1",
            "captured_at": T0 + 5000,
            "produced_at": T0 + 5090,
            "model": MODEL,
            "species": [{"id": "eurrob1", "score": 0.95}],
        },
    )
    _send(
        producer,
        topics[LABELS],
        LABELS,
        rec,
        {
            "target": "chunk",
            "device_id": rec,
            "chunk_id": f"{rec}-9",
            "session_id": f"{rec}-s2",
            "captured_at": T0,
            "source": "dataset",
            "species": ["grfrog"],
        },
    )
    _send(
        producer,
        topics[ACTIONS_SPRAY],
        ACTIONS_SPRAY,
        boom,
        {
            "action_id": f"{boom}-a1",
            "device_id": boom,
            "frame_id": f"{boom}-2",
            "captured_at": T0,
            "fire_at": T0 + 300,
            "duration_ms": 40,
            "nozzles": [3, 4],
            "detections": [_box("weed")],
        },
    )
    producer.produce(topics[LABELS], key=b"x", value=b'{"target": "frame"}', headers=[("device_id", b"bad")])
    producer.flush(30)

    _wait(lambda: _count(settings, "spray_actions", "device_id = %s", (boom,)) == 1)
    _wait(lambda: _count(settings, "labels", "device_id IN (%s, %s)", (labelled, rec)) == 3)
    assert _count(settings, "detections_vision", "device_id = %s", (boom,)) == 3
    assert _count(settings, "detections_audio", "device_id = %s", (rec,)) == 2

    [msg] = [
        m
        for m in consume_until(
            dead, lambda ms: any(header_value(m.headers(), "source_topic") == topics[LABELS] for m in ms)
        )
        if header_value(m.headers(), "source_topic") == topics[LABELS]
    ]
    assert (
        msg.value() == b'{"target": "frame"}'
        and header_value(msg.headers(), "error_type") == "SchemaValidationError"
    )

    # replaying everything writes no duplicate row
    for i in range(3):
        _send(
            producer,
            topics[DETECTIONS_VISION],
            DETECTIONS_VISION,
            boom,
            {
                "device_id": boom,
                "frame_id": f"{boom}-{i}",
                "captured_at": T0 + i * 1000,
                "produced_at": T0 + i * 1000 + 40,
                "model": MODEL,
                "boxes": [_box("crop"), *[_box("weed")] * (i + 1)],
            },
        )
    _send(
        producer,
        topics[ACTIONS_SPRAY],
        ACTIONS_SPRAY,
        boom,
        {
            "action_id": f"{boom}-a1",
            "device_id": boom,
            "frame_id": f"{boom}-2",
            "fire_at": T0 + 300,
            "duration_ms": 40,
            "nozzles": [3, 4],
            "detections": [],
            "created_at": T0 + 301,
        },
    )
    producer.flush(30)
    before = sink.stats["messages"]
    _wait(lambda: sink.stats["messages"] >= before + 4)
    assert _count(settings, "detections_vision", "device_id = %s", (boom,)) == 3
    assert _count(settings, "spray_actions", "device_id = %s", (boom,)) == 1


def test_weed_density_from_detections_and_from_labels_where_there_are_none(sink, settings):
    boom, labelled = f"boom-{SUFFIX}", f"lab-{SUFFIX}"
    cols, rows = run_query(settings.postgres_dsn, QUERIES["weed-density"], QueryParams(device=boom))
    assert [dict(zip(cols, r, strict=True)) | {"minute": None} for r in rows] == [
        {
            "device_id": boom,
            "minute": None,
            "frames": 3,
            "crops": 3,
            "weeds": 6,
            "weeds_per_frame": 2.0,
            "source": "detections",
        },
    ]
    assert rows[0][1].timestamp() * 1000 == T0
    _, rows = run_query(settings.postgres_dsn, QUERIES["weed-density"], QueryParams(device=labelled))
    assert [(r[2], r[4], r[5], r[6]) for r in rows] == [(2, 4, 2.0, "labels")]


def test_species_per_session_and_the_cli_prints_it(sink, settings, capsys):
    rec = f"rec-{SUFFIX}"
    cols, rows = run_query(settings.postgres_dsn, QUERIES["species-per-session"], QueryParams(device=rec))
    got = {(r[0], r[2]): dict(zip(cols, r, strict=True)) for r in rows}
    robin = got[(f"{rec}-s1", "eurrob1")]
    assert (robin["chunks"], robin["max_score"], robin["species_name"], robin["source"]) == (
        2,
        0.95,
        "European Robin",
        "detections",
    )
    assert got[(f"{rec}-s1", "comcuc")]["chunks"] == 1
    assert got[(f"{rec}-s2", "grfrog")]["source"] == "labels"  # no detections in that session
    code = main(
        [
            "history",
            "--data-dir",
            str(settings.data_dir),
            "species-per-session",
            "--session",
            f"{rec}-s1",
            "--format",
            "json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(r["species_id"], r["chunks"]) for r in printed] == [("eurrob1", 2), ("comcuc", 1)]


def test_online_store_keeps_the_newest_row_and_sets_a_ttl(settings):
    store = RedisOnlineStore.from_url(settings.redis_url, ttl_s=120)
    device = f"online-{SUFFIX}"

    def row(item: str, at: int, value: float) -> FeatureRow:
        return FeatureRow(
            "frames", item, device, at, "v1", {"vegetation_fraction": value}, computed_at=at + 5
        )

    assert store.write_latest([row("f2", T0 + 2000, 0.2)]) == 1
    assert store.write_latest([row("f1", T0 + 1000, 0.1)]) == 0  # older: a replay never regresses it
    assert store.write_latest([row("f0", T0 + 2000, 0.0)]) == 0  # same time, smaller id: loses
    assert store.write_latest([row("f2", T0 + 2000, 0.2)]) == 1  # the same row again: idempotent
    latest = store.read_latest("frames", "device", device)
    assert latest == row("f2", T0 + 2000, 0.2)
    assert 100 < store.ttl_seconds("frames", "device", device) <= 120
    assert store.read_latest("frames", "device", f"nobody-{SUFFIX}") is None
    audio = FeatureRow("audio", "c1", device, T0, "v1", {"aci": 1.5}, session_id=f"s-{SUFFIX}")
    assert store.write_latest([audio]) == 2  # device and session keys
    assert store.read_latest("audio", "session", f"s-{SUFFIX}").features == {"aci": 1.5}
