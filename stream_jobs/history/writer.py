"""Idempotent batch upserts into PostgreSQL (one transaction per batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2
from psycopg2 import sql
from psycopg2.extras import execute_values


class HistoryWriteError(RuntimeError):
    """A batch could not be written (the transaction was rolled back; the cause is chained)."""


def upsert_statement(table: str, columns: Sequence[str], key: Sequence[str]) -> sql.Composed:
    """``INSERT INTO table (cols) VALUES %s ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col, ...``."""
    updates = [c for c in columns if c not in key]
    action = (
        sql.SQL("DO UPDATE SET ")
        + sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updates)
        if updates
        else sql.SQL("DO NOTHING")
    )
    return sql.SQL("INSERT INTO {table} ({cols}) VALUES %s ON CONFLICT ({key}) {action}").format(
        table=sql.Identifier(table),
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        key=sql.SQL(", ").join(map(sql.Identifier, key)),
        action=action,
    )


class PostgresWriter:
    """Holds one connection; :meth:`write` upserts several tables' rows atomically."""

    def __init__(self, dsn: str, page_size: int = 500) -> None:
        self.dsn = dsn
        self.page_size = page_size
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.dsn)
        return self._conn

    def write(self, batches: Mapping[tuple[str, tuple[str, ...]], Sequence[Mapping[str, Any]]]) -> int:
        """``{(table, key columns): rows}`` -> rows written. Rows of one table share their columns."""
        conn = self._connection()
        written = 0
        try:
            with conn.cursor() as cur:
                for (table, key), rows in batches.items():
                    if not rows:
                        continue
                    columns = list(rows[0])
                    values = [tuple(r[c] for c in columns) for r in rows]
                    execute_values(
                        cur, upsert_statement(table, columns, key), values, page_size=self.page_size
                    )
                    written += len(rows)
            conn.commit()
        except psycopg2.Error as exc:
            conn.rollback()
            raise HistoryWriteError(f"upserting {written}+ rows failed: {exc}") from exc
        return written

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
