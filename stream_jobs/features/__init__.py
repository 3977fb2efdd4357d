"""The PyFlink feature job: raw frames and soundscape chunks in, features out.

``frames.raw.v1`` / ``audio.raw.v1`` (Kafka, value = media bytes, metadata in headers) are read by the
Flink Kafka connector; a vectorised Python UDF per stream decodes each batch (PIL / soundfile), calls
``feature_store.features`` on the whole batch, archives the media and updates the Redis online store;
Flink SQL then writes the per-record features to ``features.*.v1`` and PostgreSQL, 1-minute event-time
window aggregates to PostgreSQL, and the records that fail decoding to ``deadletter.v1``.

Modules: :mod:`.kinds` (decoding and features per stream, on the kernel's modalities; no Flink),
:mod:`.messages` (the JSON on ``features.*.v1``), :mod:`.udfs` (the vectorised UDF), :mod:`.windows`
(window aggregate SQL and its reference maths), :mod:`.pipeline` (tables and INSERTs of one stream),
:mod:`.config`, :mod:`.job` (start, wait, stop with a savepoint; the cluster entry point),
:mod:`.launcher` (the job as a child process, for the demo, benchmarks and tests).
"""
