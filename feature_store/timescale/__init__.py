"""The history store: TimescaleDB (or plain PostgreSQL) schema, migrations and queries."""
