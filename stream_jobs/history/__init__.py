"""The history sink: detections, labels and spray actions from Kafka into their PostgreSQL tables.

A plain confluent-kafka consumer (``fieldstream history sink``), not a Flink job: the messages are
JSON validated against their schemas with the shared contracts (bad ones go to ``deadletter.v1``
exactly as every other consumer does), mapped to rows (:mod:`.rows`), upserted in one transaction per
batch (:mod:`.writer`, ``INSERT ... ON CONFLICT DO UPDATE`` on each table's key), and only then are
the offsets committed: at-least-once delivery into idempotent upserts, so a restart or a replay writes
no duplicate row. Why not Flink here: see ``stream_jobs/README.md``.
"""
