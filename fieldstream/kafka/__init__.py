"""Thin, typed helpers around confluent-kafka: client configs, topic admin."""
