"""The stream jobs' commands: ``fieldstream features`` (the PyFlink feature job, the online store)
and ``fieldstream history`` (the history sink, named queries over the history store)."""

from __future__ import annotations

import argparse

from stream_jobs.cli import features, history


def register(sub: argparse._SubParsersAction) -> None:
    features.register(sub)
    history.register(sub)
