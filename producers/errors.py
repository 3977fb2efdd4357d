"""Errors of the producers package: one root, causes kept (``raise ... from exc``)."""

from __future__ import annotations


class ProducersError(Exception):
    """Root of every error raised by ``producers`` (outside the simulators)."""


class PublishInterruptedError(ProducersError):
    """A stop was requested while a record waited for room in the full local queue."""


class WorkerError(ProducersError):
    """A worker process of a pool failed (its traceback is in the message) or died."""


class DatasetError(ProducersError):
    """A dataset folder cannot be replayed at all (missing folder, unreadable ``data.yaml``, ...)."""


class SkipInputError(ProducersError):
    """One input file cannot be replayed; the replayer reports it, counts it as skipped and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
