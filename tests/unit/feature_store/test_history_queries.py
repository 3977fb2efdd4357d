"""History queries: SQL builders, output formats, time parsing; their views exist in the migrations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from feature_store.history import QUERIES, QueryParams, build_query, render
from feature_store.timescale.migrate import MIGRATIONS_DIR
from stream_jobs.cli.history import parse_time

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 5, 1, 11, 0, tzinfo=UTC)


def test_no_filter_gives_ordered_limited_select():
    sql, args = build_query(QUERIES["weed-density"], QueryParams())
    assert sql == (
        "SELECT device_id, minute, frames, crops, weeds, weeds_per_frame, source FROM weed_density_1m"
        " ORDER BY device_id, minute LIMIT %(limit)s"
    )
    assert args == {"limit": 1000}


def test_filters_become_parameters_never_pasted_text():
    evil = "x' OR '1'='1"
    sql, args = build_query(
        QUERIES["audio-features"], QueryParams(device=evil, session="s1", since=T0, until=T1, limit=5)
    )
    assert evil not in sql
    assert "WHERE device_id = %(device)s AND session_id = %(session)s" in sql
    assert "captured_at >= %(since)s AND captured_at < %(until)s" in sql
    assert args == {"device": evil, "session": "s1", "since": T0, "until": T1, "limit": 5}


def test_session_queries_match_overlapping_sessions():
    sql, _ = build_query(QUERIES["species-per-session"], QueryParams(since=T0, until=T1, limit=None))
    assert "last_seen >= %(since)s AND first_seen < %(until)s" in sql
    assert "LIMIT" not in sql


def test_unsupported_filters_are_refused():
    with pytest.raises(ValueError, match="session"):
        build_query(QUERIES["weed-density"], QueryParams(session="s"))
    with pytest.raises(ValueError, match="limit"):
        build_query(QUERIES["frame-features"], QueryParams(limit=0))


def _migrations_sql() -> str:
    return "\n".join(p.read_text() for p in sorted(MIGRATIONS_DIR.glob("*.sql")))


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_every_query_reads_a_relation_the_migrations_create(name):
    query = QUERIES[name]
    sql = _migrations_sql()
    relations = re.findall(r"\b(?:FROM|JOIN)\s+([a-z_0-9]+)", query.source) or [query.source]
    for relation in relations:
        assert re.search(rf"(VIEW|TABLE|timeseries\(')\s*(IF NOT EXISTS\s+)?'?{relation}\b", sql), relation


def test_timescaledb_gets_a_continuous_aggregate_guarded_by_the_backend():
    sql = (MIGRATIONS_DIR / "0004_history_views.sql").read_text()
    assert "fieldstream_history_backend() = 'timescaledb'" in sql
    assert "timescaledb.continuous" in sql and "WITH NO DATA" in sql  # allowed inside a transaction
    assert "date_bin(INTERVAL '1 minute'" in sql


COLUMNS = ["device_id", "minute", "weeds_per_frame", "boxes"]
ROWS = [("boom-1", T0, Decimal("0.5"), [{"class_name": "weed"}]), ("boom-2", T1, None, None)]


def test_render_json_is_plain_json():
    out = json.loads(render(COLUMNS, ROWS, "json"))
    assert out[0] == {
        "device_id": "boom-1",
        "minute": "2026-05-01T10:00:00+00:00",
        "weeds_per_frame": 0.5,
        "boxes": [{"class_name": "weed"}],
    }
    assert out[1]["weeds_per_frame"] is None


def test_render_csv_and_table():
    csv_text = render(COLUMNS, ROWS, "csv").splitlines()
    assert csv_text[0] == "device_id,minute,weeds_per_frame,boxes"
    assert csv_text[2] == "boom-2,2026-05-01T11:00:00+00:00,,"
    table = render(COLUMNS, ROWS, "table").splitlines()
    assert table[0].split() == COLUMNS and table[-1] == "(2 rows)"
    with pytest.raises(ValueError):
        render(COLUMNS, ROWS, "xml")


def test_parse_time_takes_iso_and_ages():
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_time("2h", now) == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
    assert parse_time("15m", now) == datetime(2026, 5, 1, 11, 45, tzinfo=UTC)
    assert parse_time("2026-05-01T10:00:00Z") == T0
    assert parse_time("2026-05-01 10:00") == T0  # naive = UTC
    with pytest.raises(Exception, match="not a time"):
        parse_time("yesterday")
