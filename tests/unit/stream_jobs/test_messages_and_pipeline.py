"""Feature messages validate against their schemas; the job's JDBC sinks match the history tables."""

from __future__ import annotations

import json
import re

import pytest

from feature_store.timescale.migrate import MIGRATIONS_DIR
from fieldstream.contracts import decode_message
from fieldstream.settings import Settings
from fieldstream.topics import FEATURES_AUDIO, FEATURES_FRAMES
from stream_jobs.features.config import FeatureJobConfig
from stream_jobs.features.kinds import Scored
from stream_jobs.features.messages import encode_feature_message, features_json
from stream_jobs.features.pipeline import pipeline_ddl, pipeline_inserts, pipeline_spec, pipeline_views
from stream_jobs.features.udfs import result_fields

FRAME = Scored(ok=True, device_id="b", item_id="f1", captured_at=5, features={"a": 0.1 + 0.2, "b": 2.0})
CHUNK = Scored(ok=True, device_id="r", item_id="c1", session_id="s", captured_at=5, features={"x": -1.5})


def test_frame_message_is_valid_json_with_exact_floats():
    raw = encode_feature_message("frames", FRAME, "v1", 9)
    msg = decode_message(FEATURES_FRAMES, raw)
    assert msg == {
        "device_id": "b",
        "frame_id": "f1",
        "captured_at": 5,
        "computed_at": 9,
        "feature_set": "v1",
        "features": {"a": 0.30000000000000004, "b": 2.0},
    }
    assert json.loads(features_json(FRAME.features)) == FRAME.features


def test_audio_message_names_chunk_and_session():
    msg = decode_message(FEATURES_AUDIO, encode_feature_message("audio", CHUNK, "v1", 9))
    assert (msg["chunk_id"], msg["session_id"]) == ("c1", "s")


def test_rejected_records_have_no_message():
    with pytest.raises(ValueError):
        encode_feature_message("frames", Scored.rejected(ValueError("x")), "v1", 0)


def _pg_columns(table: str) -> set[str]:
    sql = "\n".join(p.read_text() for p in sorted(MIGRATIONS_DIR.glob("*.sql")))
    body = sql.split(f"fieldstream_create_timeseries('{table}'", 1)[1].split("$cols$")[1]
    return {m.group(1) for m in re.finditer(r"^\s+([a-z_0-9]+)\s+[a-z]", body, re.M)} - {"PRIMARY"}


SETTINGS = Settings(postgres_dsn="postgresql://u:p@h:5/db", kafka_bootstrap="k:1", redis_url="redis://r")


@pytest.mark.parametrize("kind", ["frames", "audio"])
def test_every_sink_column_exists_in_its_table(kind):
    spec = pipeline_spec(kind, FeatureJobConfig())
    for table, columns in (
        (spec.media_table, spec.media_columns),
        (spec.features_table, spec.features_columns),
    ):
        assert {c for c, _, _ in columns} <= _pg_columns(table), table
    ddl = "\n".join(pipeline_ddl(spec, FeatureJobConfig(), SETTINGS))
    assert ddl.count("'connector' = 'jdbc'") == 3 and ddl.count("'connector' = 'kafka'") == 2


@pytest.mark.parametrize("kind", ["frames", "audio"])
def test_views_read_every_udf_field_and_inserts_cover_every_sink(kind):
    spec = pipeline_spec(kind, FeatureJobConfig(frames_topic="fr.test", audio_topic="au.test"))
    (_, scored), (_, ok) = pipeline_views(spec)
    assert f"{kind}_features(v, kafka_partition, kafka_offset, headers['schema']" in scored
    for name, _ in result_fields(kind):
        if name not in ("ok", "error", "error_type"):
            assert f"r.{name} AS {name}" in ok
    inserts = pipeline_inserts(spec, "v1")
    targets = [re.match(r"INSERT INTO (\w+)", i).group(1) for i in inserts]
    assert targets == [
        f"{kind}_features_kafka",
        f"{kind}_features_pg",
        f"{kind}_media_pg",
        f"{kind}_windows_pg",
        "deadletter_sink",
    ]
    deadletter = inserts[-1]
    for header in ("error", "error_type", "source_topic", "source_partition", "source_offset"):
        assert f"'{header}'" in deadletter
    assert spec.raw_topic in deadletter and "WHERE NOT r.ok" in deadletter
