"""The inference commands: ``fieldstream worker`` (Kafka workers) and ``fieldstream serve`` (KServe)."""

from __future__ import annotations

import argparse

from inference_workers.cli import serve, worker


def register(sub: argparse._SubParsersAction) -> None:
    worker.register(sub)
    serve.register(sub)
