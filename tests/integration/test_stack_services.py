"""The real services `stack up` starts: Kafka round trips, kcat, dead letters, PostgreSQL, Redis, MLflow."""

from __future__ import annotations

import io
import json
import subprocess
import urllib.request
import uuid

import numpy as np
import psycopg2
import redis
from kafka_reading import consume_until
from PIL import Image

from fieldstream.contracts import FrameRecord, decode_frame, encode_frame, header_value
from fieldstream.kafka.routing import decode_or_deadletter, decoder_for
from fieldstream.topics import DEADLETTER, FRAMES_RAW

HISTORY_TABLES = {
    "frames",
    "audio_chunks",
    "frame_features",
    "audio_features",
    "detections_vision",
    "detections_audio",
    "labels",
    "spray_actions",
}


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(buf, format="JPEG")
    return buf.getvalue()


def test_frame_record_round_trips_byte_identical_with_headers(producer, consumer_factory):
    device = f"boom-{uuid.uuid4().hex[:6]}"
    frame = FrameRecord(
        device, f"{device}-1", 1_790_000_000_000, "image/jpeg", _jpeg(1), lat=1.5, speed_mps=6.0
    )
    rec = encode_frame(frame)
    consumer = consumer_factory(FRAMES_RAW)
    producer.produce(FRAMES_RAW, key=rec.key, value=rec.value, headers=rec.headers)
    producer.flush(10)
    got = consume_until(consumer, lambda ms: any(m.key() == rec.key for m in ms))
    [msg] = [m for m in got if m.key() == rec.key]
    assert msg.value() == rec.value
    assert msg.headers() == rec.headers
    assert decode_frame(msg.value(), msg.headers()) == frame


def test_jpeg_published_with_kcat_decodes(settings, consumer_factory, tmp_path):
    device = f"kcat-{uuid.uuid4().hex[:6]}"
    jpeg = _jpeg(2)
    path = tmp_path / "frame.jpg"
    path.write_bytes(jpeg)
    consumer = consumer_factory(FRAMES_RAW)
    subprocess.run(
        [
            "kcat",
            "-P",
            "-b",
            settings.kafka_bootstrap,
            "-t",
            FRAMES_RAW,
            "-k",
            device,
            "-H",
            "schema=frame.v1",
            "-H",
            f"device_id={device}",
            "-H",
            f"frame_id={device}-0001",
            "-H",
            "captured_at=1790000000456",
            "-H",
            "content_type=image/jpeg",
            "-H",
            "speed_mps=5.5",
            str(path),
        ],
        check=True,
        timeout=30,
    )
    got = consume_until(consumer, lambda ms: any(m.key() == device.encode() for m in ms))
    [msg] = [m for m in got if m.key() == device.encode()]
    frame = decode_frame(msg.value(), msg.headers())
    assert frame.image == jpeg
    assert (frame.device_id, frame.frame_id, frame.captured_at, frame.speed_mps) == (
        device,
        f"{device}-0001",
        1790000000456,
        5.5,
    )


def test_malformed_record_lands_in_deadletter_with_its_reason(producer, consumer_factory, settings):
    device = f"bad-{uuid.uuid4().hex[:6]}"
    raw_consumer = consumer_factory(FRAMES_RAW)
    dead_consumer = consumer_factory(DEADLETTER)
    headers = [
        ("schema", b"frame.v1"),
        ("device_id", device.encode()),
        ("frame_id", b"x1"),
        ("content_type", b"image/jpeg"),
    ]  # captured_at missing
    producer.produce(FRAMES_RAW, key=device.encode(), value=_jpeg(3), headers=headers)
    producer.flush(10)
    [msg] = [
        m
        for m in consume_until(raw_consumer, lambda ms: any(m.key() == device.encode() for m in ms))
        if m.key() == device.encode()
    ]
    decoded = decode_or_deadletter(msg, decoder_for(FRAMES_RAW, settings.max_payload_bytes), producer)
    assert decoded is None
    producer.flush(10)
    [dead] = [
        m
        for m in consume_until(dead_consumer, lambda ms: any(m.key() == device.encode() for m in ms))
        if m.key() == device.encode()
    ]
    assert dead.value() == msg.value()
    assert header_value(dead.headers(), "error") == "header captured_at missing"
    assert header_value(dead.headers(), "source_topic") == FRAMES_RAW
    assert header_value(dead.headers(), "source_offset") == str(msg.offset())
    assert dead.headers()[: len(headers)] == headers


def test_declared_topics_exist_with_their_partitions_and_configs(settings):
    from confluent_kafka.admin import AdminClient, ConfigResource

    from fieldstream.topics import load_topic_specs

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    for spec in load_topic_specs():
        assert len(topics[spec.name].partitions) == spec.partitions
    resource = ConfigResource(ConfigResource.Type.TOPIC, "models.events.v1")
    config = admin.describe_configs([resource])[resource].result()
    assert config["cleanup.policy"].value == "compact"


def test_postgres_has_the_schema_and_says_which_backend(settings, local_stack):
    with psycopg2.connect(settings.postgres_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT fieldstream_history_backend()")
        backend = cur.fetchone()[0]
        cur.execute(
            "SELECT relname FROM pg_class"
            " WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace"
        )
        tables = {row[0] for row in cur.fetchall()}
        cur.execute("SELECT count(*) FROM schema_migrations")
        migrations = cur.fetchone()[0]
    assert backend in ("timescaledb", "postgresql")
    assert tables >= HISTORY_TABLES
    assert migrations >= 2
    postgres = next(s for s in local_stack.status() if s.name == "postgres")
    assert postgres.detail.startswith(backend)


def test_psql_accepts_the_dsn(settings):
    out = subprocess.run(
        ["psql", settings.postgres_dsn, "-tAc", "SELECT count(*) FROM frames"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip().isdigit()


def test_redis_answers(settings):
    client = redis.Redis.from_url(settings.redis_url)
    assert client.ping()
    key = f"test:{uuid.uuid4().hex}"
    client.set(key, "v", ex=30)
    assert client.get(key) == b"v"


def test_mlflow_rest_api_lists_experiments(settings):
    request = urllib.request.Request(
        f"{settings.mlflow_tracking_uri}/api/2.0/mlflow/experiments/search",
        data=json.dumps({"max_results": 10}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        body = json.loads(resp.read())
    assert "Default" in {e["name"] for e in body["experiments"]}


def test_status_reports_pid_port_health_and_memory(local_stack):
    rows = {r.name: r for r in local_stack.status()}
    assert set(rows) == {"kafka", "postgres", "redis", "mlflow", "serve"}
    for row in rows.values():
        assert row.healthy and row.pid and row.port
        assert row.rss_bytes > 1_000_000


def test_stack_init_prepares_services_it_did_not_start(settings, local_stack):
    """`fieldstream stack init` (compose/Kubernetes): migrations on an empty database, topics idempotent."""
    import os
    import sys

    from feature_store.timescale.migrate import migration_files

    db = f"init_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(settings.postgres_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{db}"')
    admin.close()
    dsn = settings.postgres_dsn.rsplit("/", 1)[0] + f"/{db}"
    env = {
        **os.environ,
        "FIELDSTREAM_POSTGRES_DSN": dsn,
        "FIELDSTREAM_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "FIELDSTREAM_DATA_DIR": str(local_stack.data_dir),
    }
    out = subprocess.run(
        [sys.executable, "-m", "app", "stack", "init"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.startswith(f"0 topics created, {len(migration_files())} migrations applied")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(migration_files())
        cur.execute("SELECT to_regclass('public.detections_vision') IS NOT NULL")
        assert cur.fetchone()[0]
