"""MLflow tracking of one training run (rank 0 only): params, per-epoch metrics, artifacts.

:class:`NullTracker` stands in when a run is not tracked (``--no-mlflow``: no tracking server needed).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import mlflow

from fieldstream.settings import load_settings
from training.config import TrainConfig
from training.tasks import Task


class RunTracker:
    def __init__(
        self,
        config: TrainConfig,
        task: Task,
        *,
        run_id: str | None,
        world_size: int,
        train_size: int,
        heldout_size: int,
    ) -> None:
        self.tracking_uri = load_settings().mlflow_tracking_uri
        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.set_experiment(config.experiment_name)
        self.run = mlflow.start_run(run_id=run_id, run_name=None if run_id else f"{config.task}-train")
        self.run_id = self.run.info.run_id
        if run_id is None:  # a resumed run already has its params
            params = {k: v for k, v in asdict(config).items() if k not in ("arch", "output")}
            params.update(
                world_size=world_size,
                train_examples=train_size,
                heldout_examples=heldout_size,
                model_spec=task.spec.name,
                gate_metric=task.gate.metric,
                gate_floor=task.gate.floor,
                gate_margin=task.gate.margin,
                registered_model=task.model_name,
            )
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.log_dict(task.spec.to_dict(), "model_spec.json")

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        clean = {k.replace("/", "."): float(v) for k, v in metrics.items()}
        mlflow.log_metrics(clean, step=epoch)

    def log_metrics(self, metrics: dict[str, float], prefix: str = "") -> None:
        mlflow.log_metrics({f"{prefix}{k}".replace("/", "."): float(v) for k, v in metrics.items()})

    def log_json(self, data: Any, name: str) -> None:
        mlflow.log_dict(data, name)

    def set_tags(self, tags: dict[str, Any]) -> None:
        mlflow.set_tags({k: str(v) for k, v in tags.items()})

    def log_file(self, path: Path, folder: str | None = None) -> None:
        mlflow.log_artifact(str(path), folder)

    def end(self) -> None:
        mlflow.end_run()


class NullTracker:
    """The :class:`RunTracker` interface doing nothing (an untracked run has no run id)."""

    run_id: str | None = None

    def log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], prefix: str = "") -> None:
        pass

    def log_json(self, data: Any, name: str) -> None:
        pass

    def set_tags(self, tags: dict[str, Any]) -> None:
        pass

    def log_file(self, path: Path, folder: str | None = None) -> None:
        pass

    def end(self) -> None:
        pass


def make_tracker(
    config: TrainConfig,
    task: Task,
    *,
    run_id: str | None,
    world_size: int,
    train_size: int,
    heldout_size: int,
) -> RunTracker | NullTracker:
    if not config.track:
        return NullTracker()
    return RunTracker(
        config, task, run_id=run_id, world_size=world_size, train_size=train_size, heldout_size=heldout_size
    )
