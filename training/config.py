"""``TrainConfig``: one training run, as the CLI builds it and every DDP rank reads it (JSON), and the
per-task defaults.

Light on purpose (no torch, numpy or mlflow): ``training.cli`` reads its defaults from here at import.
A task is a modality of :mod:`fieldstream.modality` (``vision`` | ``audio``), which names its model.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fieldstream.modality import AUDIO, MODALITIES, NAMES, VISION

TASKS = NAMES
SOURCES = ("simulated", "snapshot", "dataset")
MODEL_NAMES = {m.name: m.model_name for m in MODALITIES.values()}
#: How a dataset snapshot is split unless told otherwise (``training.data.snapshot.SnapshotQuery``).
SNAPSHOT_SPLIT_SEED = 0
SNAPSHOT_HELDOUT_FRACTION = 0.2
SNAPSHOT_BUCKET_S = 60
#: What each task trains (the CLI's help).
TASK_MODELS = {VISION.name: "the crop/weed detector", AUDIO.name: "the species classifier"}


@dataclass(frozen=True)
class TrainConfig:
    task: str  # "vision" | "audio"
    epochs: int = 30
    global_batch: int = 32  # across all ranks: each rank gets global_batch // world_size
    lr: float = 3e-3
    weight_decay: float = 1e-4
    train_size: int = 1200  # simulated examples (source "simulated")
    heldout_size: int = 300
    train_seed: int = 0
    heldout_seed: int = 1_000_000  # held-out data comes from other seeds than training (HELDOUT_SEED_BASE)
    source: str = "simulated"  # "simulated" | "snapshot" | "dataset"
    snapshot: str | None = None  # path of a snapshot manifest (source "snapshot")
    dataset: str | None = None  # a YOLO (vision) or BirdCLEF-style (audio) folder (source "dataset")
    heldout_fraction: float = 0.2  # share of a dataset folder held out (when it has no val split)
    class_names: tuple[str, ...] | None = None  # default: crop/weed, or the simulator's base species
    nproc: int = 1
    threads: int | None = None  # torch threads per rank (default: cores // nproc)
    time_budget_s: float | None = None  # no epoch is started that would end past it (data prep counts)
    patience: int = 6  # early stop after this many epochs without improvement
    max_steps_per_epoch: int | None = None  # for tests and benchmarks
    checkpoint_dir: str = ".fieldstream/checkpoints"
    resume: bool = False
    experiment: str | None = None  # MLflow experiment (default fieldstream-<task>)
    model_name: str | None = None  # registered model (default vision-detector / audio-classifier)
    track: bool = True  # log the run to MLflow (False: no tracking server needed, nothing registered)
    register: bool = True  # log the ONNX model and register a version
    gate: bool = True  # evaluate against the champion and promote when the gate passes
    gate_floor: float | None = None  # override the task's production floor (e.g. for tiny test models)
    gate_margin: float | None = None  # override the tolerated drop below the champion
    # also export a static int8 model (calibrated on training inputs) and score it on the held-out
    # set; it ships with the version for CPU serving when the gate metric drops by <= int8_max_drop
    quantize: bool = True
    int8_max_drop: float = 0.01
    output: str | None = None  # where rank 0 writes the result JSON
    arch: dict[str, Any] = field(default_factory=dict)
    input_size: tuple[int, int] | None = None  # vision (width, height) override

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}")
        if self.train_seed == self.heldout_seed:
            raise ValueError("held-out data must use another seed than training")
        if self.nproc < 1 or self.global_batch < self.nproc:
            raise ValueError("need nproc >= 1 and global_batch >= nproc")
        if self.source == "snapshot" and not self.snapshot:
            raise ValueError("source 'snapshot' needs a snapshot manifest path")
        if self.source == "dataset" and not self.dataset:
            raise ValueError("source 'dataset' needs a dataset folder")
        if not 0.0 < self.heldout_fraction < 1.0:
            raise ValueError("heldout_fraction must be in (0, 1)")
        if self.gate_margin is not None and self.gate_margin < 0:
            raise ValueError("gate_margin must be >= 0")
        if self.register and not self.track:
            raise ValueError("registering a model needs MLflow tracking")
        if self.threads is not None and self.threads < 1:
            raise ValueError("threads must be >= 1")

    @property
    def experiment_name(self) -> str:
        return self.experiment or f"fieldstream-{self.task}"

    @property
    def registered_model(self) -> str:
        return self.model_name or MODEL_NAMES[self.task]

    @property
    def checkpoint_path(self) -> Path:
        """One resumable checkpoint per experiment and registered model."""
        return Path(self.checkpoint_dir) / self.experiment_name / f"{self.registered_model}-last.pt"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        data = json.loads(text)
        for key in ("input_size", "class_names"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return cls(**data)

    def save(self, path: Path) -> None:
        path.write_text(self.to_json())

    def with_(self, **changes: Any) -> TrainConfig:
        return replace(self, **changes)


#: Defaults per task, measured on the shared 2-core development machine (see training/README.md):
#: each reaches its quality bar (vision mAP@0.5 >= 0.85, audio macro ROC-AUC >= 0.95 on held-out
#: data from other simulator seeds) and the whole run, data and publishing included, ends within
#: 20 minutes there; the time budget stops a slower run (a busier machine) before that.
DEFAULTS: dict[str, dict[str, Any]] = {
    VISION.name: {
        "epochs": 16,
        "global_batch": 16,
        "lr": 3e-3,
        "train_size": 800,
        "heldout_size": 200,
        "time_budget_s": 17 * 60.0,
    },
    AUDIO.name: {
        "epochs": 10,
        "global_batch": 32,
        "lr": 3e-3,
        "train_size": 1500,
        "heldout_size": 300,
        "time_budget_s": 17 * 60.0,
    },
}
