"""Errors of the Flink plumbing (one root)."""

from __future__ import annotations


class FlinkJobError(RuntimeError):
    """A Flink job could not be configured, started or stopped (the cause is chained)."""


class MissingConnectorJarError(FlinkJobError):
    """A connector jar that ``pipeline.jars`` needs is not in ``kafka/lib/flink``."""
