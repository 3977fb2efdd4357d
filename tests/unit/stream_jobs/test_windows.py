"""Window aggregate maths (the reference) and the SQL/table it must agree with."""

from __future__ import annotations

import re

import pytest

from feature_store.features import AUDIO_FEATURE_NAMES, FRAME_FEATURE_NAMES
from feature_store.timescale.migrate import MIGRATIONS_DIR
from stream_jobs.features.windows import (
    WINDOW_MS,
    WindowRecord,
    WindowSpec,
    reference_aggregates,
    window_columns,
    window_select_sql,
    window_start_ms,
)

FRAMES = WindowSpec("frame_features_1m", "frames", FRAME_FEATURE_NAMES)
AUDIO = WindowSpec("audio_features_1m", "chunks", AUDIO_FEATURE_NAMES, with_sessions=True)
SMALL = WindowSpec("t", "frames", ("a", "b"))
M = 1_790_000_040_000  # a minute boundary (divisible by 60 000)


def test_windows_are_epoch_aligned_minutes_half_open():
    assert M % WINDOW_MS == 0
    assert window_start_ms(M) == M
    assert window_start_ms(M + 59_999) == M
    assert window_start_ms(M + 60_000) == M + 60_000
    assert window_start_ms(M - 1) == M - 60_000


def test_reference_aggregates_by_device_and_minute():
    records = [
        WindowRecord("d1", M + 1_000, {"a": 1.0, "b": 10.0}),
        WindowRecord("d1", M + 59_999, {"a": 3.0, "b": -2.0}),
        WindowRecord("d1", M + 60_000, {"a": 5.0, "b": 0.5}),  # next window
        WindowRecord("d2", M + 30_000, {"a": 7.0, "b": 7.0}),
    ]
    out = reference_aggregates(records, SMALL)
    assert sorted(out) == [("d1", M), ("d1", M + 60_000), ("d2", M)]
    first = out[("d1", M)]
    assert first == {
        "frames": 2,
        "window_end": M + 60_000,
        "first_captured_at": M + 1_000,
        "last_captured_at": M + 59_999,
        "a_avg": 2.0,
        "a_min": 1.0,
        "a_max": 3.0,
        "b_avg": 4.0,
        "b_min": -2.0,
        "b_max": 10.0,
    }
    assert out[("d1", M + 60_000)]["frames"] == 1 and out[("d1", M + 60_000)]["a_avg"] == 5.0


def test_sessions_are_counted_distinct():
    spec = WindowSpec("t", "chunks", ("x",), with_sessions=True)
    records = [WindowRecord("r", M + i, {"x": float(i)}, session_id=s) for i, s in enumerate("aab")]
    assert reference_aggregates(records, spec)[("r", M)]["sessions"] == 2


def _table_columns(table: str) -> list[str]:
    sql = (MIGRATIONS_DIR / "0003_feature_window_aggregates.sql").read_text()
    body = sql.split(f"fieldstream_create_timeseries('{table}'", 1)[1].split("$cols$")[1]
    return [
        m.group(1) for m in re.finditer(r"^\s+([a-z_0-9]+)\s+(?:text|timestamptz|bigint|double)", body, re.M)
    ]


@pytest.mark.parametrize("spec", [FRAMES, AUDIO], ids=lambda s: s.table)
def test_sink_columns_are_the_migration_columns(spec):
    sink = [name for name, _ in window_columns(spec)]
    table = _table_columns(spec.table)
    assert sink == [c for c in table if c != "computed_at"]
    assert len(sink) == len(set(sink))


def test_window_sql_selects_in_sink_column_order():
    sql = window_select_sql(SMALL, "frames_ok", "v1", {"a": "f_a", "b": "f_b"})
    assert "TUMBLE(TABLE frames_ok, DESCRIPTOR(event_time), INTERVAL '1' MINUTE)" in sql
    assert sql.endswith("GROUP BY device_id, window_start, window_end")
    select = sql.split("SELECT\n", 1)[1].split("\nFROM", 1)[0]
    parts = [p.strip() for p in select.split(",\n")]
    assert parts[3:5] == ["'v1'", "COUNT(*)"]
    assert parts[7:] == ["AVG(f_a)", "MIN(f_a)", "MAX(f_a)", "AVG(f_b)", "MIN(f_b)", "MAX(f_b)"]
    assert len(parts) == len(window_columns(SMALL))
    audio = window_select_sql(AUDIO, "audio_ok", "v1", {n: f"f_{n}" for n in AUDIO_FEATURE_NAMES})
    assert "COUNT(DISTINCT session_id)" in audio
