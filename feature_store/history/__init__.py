"""History queries: the SQL a user runs against the history store, as named, parameterised queries.

Each :class:`NamedQuery` selects from a table or a view created by the migrations (views and, on
TimescaleDB, continuous aggregates: ``0004_history_views.sql``) and adds the filters a user gives
(device, session, time range, limit). ``fieldstream history QUERY`` prints them as a table, JSON or
CSV; :func:`run_query` returns rows for Python callers.
"""

from feature_store.history.format import render
from feature_store.history.queries import QUERIES, NamedQuery, QueryParams, build_query, run_query

__all__ = ["QUERIES", "NamedQuery", "QueryParams", "build_query", "render", "run_query"]
