"""Training's commands: ``fieldstream train`` (DDP training, snapshots) and ``fieldstream models``
(the registry for people)."""

from __future__ import annotations

import argparse

from training.cli import models, train


def register(sub: argparse._SubParsersAction) -> None:
    train.register(sub)
    models.register(sub)
