"""``TrainConfig``: one training run, as the CLI builds it and every DDP rank reads it (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

TASKS = ("vision", "audio")


@dataclass(frozen=True)
class TrainConfig:
    task: str  # "vision" | "audio"
    epochs: int = 30
    global_batch: int = 32  # across all ranks: each rank gets global_batch // world_size
    lr: float = 3e-3
    weight_decay: float = 1e-4
    train_size: int = 1200
    heldout_size: int = 300
    train_seed: int = 0
    heldout_seed: int = 1_000_000  # held-out data comes from other seeds than training (HELDOUT_SEED_BASE)
    source: str = "simulated"  # "simulated" | "snapshot"
    snapshot: str | None = None  # path of a snapshot manifest (source = "snapshot")
    nproc: int = 1
    time_budget_s: float | None = None  # stop after the epoch that crosses it
    patience: int = 6  # early stop after this many epochs without improvement
    max_steps_per_epoch: int | None = None  # for tests
    checkpoint_dir: str = ".fieldstream/checkpoints"
    resume: bool = False
    experiment: str | None = None  # MLflow experiment (default fieldstream-<task>)
    register: bool = True  # log the ONNX model and register a version
    gate: bool = True  # evaluate against the champion and promote when the gate passes
    quantize: bool = False  # also export a dynamic INT8 model and report its accuracy change
    output: str | None = None  # where rank 0 writes the result JSON
    arch: dict[str, Any] = field(default_factory=dict)
    input_size: tuple[int, int] | None = None  # vision (width, height) override

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}")
        if self.train_seed == self.heldout_seed:
            raise ValueError("held-out data must use another seed than training")
        if self.nproc < 1 or self.global_batch < self.nproc:
            raise ValueError("need nproc >= 1 and global_batch >= nproc")
        if self.source == "snapshot" and not self.snapshot:
            raise ValueError("source 'snapshot' needs a snapshot manifest path")

    @property
    def experiment_name(self) -> str:
        return self.experiment or f"fieldstream-{self.task}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        data = json.loads(text)
        if data.get("input_size") is not None:
            data["input_size"] = tuple(data["input_size"])
        return cls(**data)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json())

    def with_(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)


#: Defaults per task, tuned on this 2-core machine to reach the quality bar within 20 minutes.
DEFAULTS: dict[str, dict[str, Any]] = {
    "vision": {"epochs": 30, "global_batch": 16, "lr": 3e-3, "train_size": 800, "heldout_size": 200},
    "audio": {"epochs": 30, "global_batch": 32, "lr": 2e-3, "train_size": 1200, "heldout_size": 300},
}
