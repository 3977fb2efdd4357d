"""Training checkpoints: everything to resume a run where it stopped, written atomically."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn


@dataclass
class Checkpoint:
    epoch: int = 0  # epochs completed
    elapsed_s: float = 0.0
    best_score: float = -math.inf
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    mlflow_run_id: str | None = None
    finished: bool = False  # published; nothing left to resume
    stop_reason: str | None = None  # why training ended before the last epoch (time budget, early stop)


def save_checkpoint(path: Path, state: Checkpoint, model: nn.Module, optimizer: Any, scheduler: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "state": asdict(state),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        },
        tmp,
    )
    os.replace(tmp, path)


def load_checkpoint(path: Path, model: nn.Module, optimizer: Any, scheduler: Any) -> Checkpoint:
    data = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(data["model"])
    optimizer.load_state_dict(data["optimizer"])
    scheduler.load_state_dict(data["scheduler"])
    return Checkpoint(**data["state"])


def peek_checkpoint(path: Path) -> Checkpoint:
    """The run state of a checkpoint without loading the weights into anything."""
    data = torch.load(path, map_location="cpu", weights_only=False)
    return Checkpoint(**data["state"])
