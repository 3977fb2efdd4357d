"""Kafka inference workers: consume raw media, run the champion model, produce detections,
exactly once (consume-transform-produce in Kafka transactions)."""
