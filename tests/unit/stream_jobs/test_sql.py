"""Flink SQL DDL builders: JDBC URLs, Kafka sources with headers and watermarks, upsert sinks."""

from __future__ import annotations

import pytest

from stream_jobs.flink.sql import (
    JdbcTarget,
    iso_utc_ms,
    jdbc_sink_ddl,
    jdbc_target,
    kafka_sink_ddl,
    kafka_source_ddl,
    literal,
)


def test_jdbc_target_from_libpq_uri():
    t = jdbc_target("postgresql://fieldstream@127.0.0.1:5432/fieldstream")
    assert t == JdbcTarget(
        "jdbc:postgresql://127.0.0.1:5432/fieldstream?stringtype=unspecified&user=fieldstream", None, None
    )
    t = jdbc_target("postgres://u%40x:p%2Fw@db.example:6543/hist?sslmode=require")
    assert t.url == "jdbc:postgresql://db.example:6543/hist?sslmode=require&stringtype=unspecified"
    assert (t.username, t.password) == ("u@x", "p/w")
    with pytest.raises(ValueError):
        jdbc_target("mysql://x/y")


def test_literals_are_escaped():
    assert literal("it's") == "'it''s'"


def test_kafka_source_reads_raw_value_headers_and_event_time():
    ddl = kafka_source_ddl(
        "frames_raw", "frames.raw.v1", "k:9092", "g", watermark_delay_s=2.5, max_future_s=60
    )
    assert "headers MAP<STRING NOT NULL, BYTES> METADATA" in ddl
    assert "kafka_partition INT METADATA FROM 'partition' VIRTUAL" in ddl
    assert "'value.format' = 'raw'" in ddl and "'key.format' = 'raw'" in ddl
    assert "'scan.startup.mode' = 'group-offsets'" in ddl
    assert "TRY_CAST(CAST(headers['captured_at'] AS STRING) AS BIGINT)" in ddl
    assert "event_time - INTERVAL '2.500' SECOND(3)" in ddl
    assert "UNIX_TIMESTAMP() * 1000 + 60000" in ddl  # future timestamps do not move the watermark


def test_kafka_sink_with_and_without_headers():
    assert "headers MAP<STRING, BYTES> METADATA" in kafka_sink_ddl("d", "deadletter.v1", "k", headers=True)
    plain = kafka_sink_ddl("f", "features.frames.v1", "k")
    assert "headers" not in plain and "'sink.partitioner' = 'default'" in plain


def test_jdbc_sink_upserts_on_its_key():
    target = JdbcTarget("jdbc:postgresql://h/db?stringtype=unspecified", "u", "p")
    ddl = jdbc_sink_ddl(
        "s",
        "frames",
        [("frame_id", "STRING"), ("captured_at", "STRING")],
        ("frame_id", "captured_at"),
        target,
    )
    assert "PRIMARY KEY (`frame_id`, `captured_at`) NOT ENFORCED" in ddl
    assert "'table-name' = 'frames'" in ddl and "'username' = 'u'" in ddl
    with pytest.raises(ValueError, match="primary key"):
        jdbc_sink_ddl("s", "t", [("a", "STRING")], ("b",), target)
    no_user = jdbc_sink_ddl("s", "t", [("a", "STRING")], ("a",), JdbcTarget("jdbc:postgresql://h/db"))
    assert "username" not in no_user


def test_times_travel_as_iso_utc_text():
    assert iso_utc_ms("captured_at") == (
        "DATE_FORMAT(TO_TIMESTAMP_LTZ(captured_at, 3), 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')"
    )
