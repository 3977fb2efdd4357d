"""Apply the SQL migrations in ``migrations/`` in order, once each, recorded in ``schema_migrations``.

Each file runs in one transaction. The schema is written once for both backends: time-series tables
are created through ``fieldstream_create_timeseries()`` (migration 0001), which makes a hypertable on
TimescaleDB and a natively range-partitioned table on plain PostgreSQL.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg2

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
log = logging.getLogger("fieldstream.migrations")


def migration_files(directory: Path = MIGRATIONS_DIR) -> list[Path]:
    return sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))


def apply_migrations(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply what is not applied yet; return the names applied now (empty on a second run)."""
    applied_now: list[str] = []
    with psycopg2.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(727274)")  # two `up`s at once apply each file once
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            conn.commit()
            cur.execute("SELECT name FROM schema_migrations")
            done = {row[0] for row in cur.fetchall()}
        for path in migration_files(directory):
            if path.name in done:
                continue
            with conn.cursor() as cur:
                cur.execute(path.read_text())
                cur.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
            conn.commit()
            applied_now.append(path.name)
            log.info("migration applied", extra={"migration": path.name})
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_unlock(727274)")
    return applied_now


def history_backend(dsn: str) -> str:
    """'timescaledb' when the extension is on in this database, else 'postgresql'."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
        row = cur.fetchone()
    return f"timescaledb {row[0]}" if row else "postgresql"
