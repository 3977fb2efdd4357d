"""Release a trained model (rank 0, after training): export to ONNX and check parity, quantise to
int8, build a TensorRT engine where possible, register the version in MLflow, run the gate against
the champion, promote it when the gate passes, and announce each step on ``models.events.v1``.

The metrics that decide are those of the *exported* ONNX model on the held-out set — what the
workers will run — and the champion is scored by the same code on the same held-out data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from fieldstream.model_names import CHAMPION
from fieldstream.settings import load_settings
from model_contract.metadata import EXTRAS_METADATA_KEY, add_metadata
from training.checkpoint import Checkpoint
from training.config import TrainConfig
from training.events import model_event, publish_model_event
from training.export import build_tensorrt_engine, check_parity, export_onnx, quantize_static_int8
from training.gate import GateDecision, decide
from training.tasks import Task
from training.tracking import NullTracker, RunTracker

log = logging.getLogger("fieldstream.train.release")


def input_batch(dataset: Dataset, size: int = 8, start: int = 0) -> torch.Tensor:
    """Model inputs ``start .. start + size`` of a dataset of (input, target) items, as one batch."""
    stop = min(start + size, len(dataset))  # type: ignore[arg-type]
    return torch.stack([dataset[i][0] for i in range(start, stop)])


def calibration_batches(train: Dataset, count: int = 64, size: int = 8) -> list[np.ndarray]:
    """The first ``count`` training inputs in batches: what static int8 quantisation calibrates on
    (never the held-out data that then scores the int8 model)."""
    count = min(count, len(train))  # type: ignore[arg-type]
    return [input_batch(train, size, start).numpy() for start in range(0, count, size)]


def dataset_manifest(config: TrainConfig, task: Task, heldout: Dataset, train_size: int) -> dict[str, Any]:
    """What the model was trained on: the snapshot's or dataset folder's manifest, else the seeds."""
    if task.manifest is not None:
        return task.manifest
    digest = hashlib.sha256()
    for i in range(len(heldout)):  # type: ignore[arg-type]
        digest.update(heldout[i][0].numpy().tobytes())
    return {
        "source": "simulated",
        "train_seed": config.train_seed,
        "heldout_seed": config.heldout_seed,
        "train_examples": train_size,
        "heldout_examples": len(heldout),  # type: ignore[arg-type]
        "heldout_sha256": digest.hexdigest(),
    }


def release_model(
    config: TrainConfig,
    task: Task,
    model: nn.Module,
    heldout: Dataset,
    tracker: RunTracker | NullTracker,
    state: Checkpoint,
    train: Dataset | None = None,
) -> dict[str, Any]:
    """Export, score, quantise, register, gate and promote ``model``; returns the run's result.

    ``train``: where int8 calibration inputs come from (``config.quantize``); none, no int8 model.
    """
    model = model.cpu().eval()
    work = Path(tempfile.mkdtemp(prefix=f"fieldstream-{task.name}-"))
    onnx_path = export_onnx(model, input_batch(heldout, 1), work / "model.onnx")
    add_metadata(onnx_path, EXTRAS_METADATA_KEY, json.dumps(task.runtime_extras()))
    parity = check_parity(model, onnx_path, input_batch(heldout))
    metrics = task.evaluate_onnx(str(onnx_path), heldout)
    tracker.log_metrics({**metrics, "onnx_parity_max_abs_diff": parity}, prefix="final.")
    result: dict[str, Any] = {
        "task": task.name,
        "model_name": task.model_name,
        "run_id": tracker.run_id,
        "metrics": metrics,
        "onnx_parity_max_abs_diff": parity,
        "epochs": state.epoch,
        "best_epoch": state.best_epoch,
        "train_seconds": round(state.elapsed_s, 1),
        "stop_reason": state.stop_reason,
        "history": state.history,
    }
    int8_path: Path | None = None
    if config.quantize and train is not None:
        int8_path, result["int8"] = _quantize(task, onnx_path, train, heldout, metrics, config.int8_max_drop)
        tracker.log_metrics(result["int8"]["metrics"], prefix="int8.")
        tracker.set_tags({"int8.shipped": result["int8"]["shipped"]})
    trt = build_tensorrt_engine(onnx_path)
    result["tensorrt"] = {"built": trt.built, "reason": trt.reason}
    tracker.set_tags({"tensorrt": trt.reason if not trt.built else f"built {trt.engine_path}"})
    manifest = dataset_manifest(config, task, heldout, config.train_size)
    tracker.log_json(manifest, "dataset_manifest.json")
    if "manifest_sha256" in manifest:
        tracker.set_tags(
            {"dataset.manifest_sha256": manifest["manifest_sha256"], "dataset.source": config.source}
        )
        result["dataset_manifest_sha256"] = manifest["manifest_sha256"]
    tracker.log_json({"history": state.history}, "history.json")
    if config.register:
        result.update(
            _register_and_gate(
                config, task, onnx_path, heldout, tracker, metrics, manifest, int8_path, result.get("int8")
            )
        )
    tracker.end()
    if not trt.built:  # the ONNX files are in MLflow now (or were only for this report); an engine stays
        shutil.rmtree(work, ignore_errors=True)
    return result


def _quantize(
    task: Task,
    onnx_path: Path,
    train: Dataset,
    heldout: Dataset,
    metrics: dict[str, float],
    max_drop: float,
) -> tuple[Path | None, dict[str, Any]]:
    """A static int8 model beside the float one, scored on the same held-out data; it ships (CPU
    workers and servers then run it) only when the gate metric drops by at most ``max_drop``."""
    int8 = quantize_static_int8(onnx_path, onnx_path.with_name("model.int8.onnx"), calibration_batches(train))
    q = task.evaluate_onnx(str(int8), heldout)
    drop = metrics[task.gate.metric] - q[task.gate.metric]
    shipped = bool(drop <= max_drop)
    log.info(
        "int8 model %s",
        "ships" if shipped else "not shipped",
        extra={"metric": task.gate.metric, "float32": metrics[task.gate.metric], "int8": q[task.gate.metric]},
    )
    report = {
        "metrics": q,
        "change": {k: q[k] - metrics[k] for k in metrics},
        "shipped": shipped,
        "max_drop": max_drop,
        "bytes": int8.stat().st_size,
        "fp32_bytes": onnx_path.stat().st_size,
    }
    return (int8 if shipped else None), report


def _register_and_gate(
    config: TrainConfig,
    task: Task,
    onnx_path: Path,
    heldout: Dataset,
    tracker: RunTracker | NullTracker,
    metrics: dict[str, float],
    manifest: dict[str, Any],
    int8_path: Path | None = None,
    int8_report: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from model_contract.registry import ModelRegistry

    settings = load_settings()
    registry = ModelRegistry(settings.mlflow_tracking_uri)
    champion = registry.by_alias(task.model_name, CHAMPION)
    card = {
        "spec": task.spec.to_dict(),
        "metrics": metrics,
        "dataset": {k: v for k, v in manifest.items() if k != "items"},  # the full list is an artifact
        "run_id": tracker.run_id,
        "trained_at": int(time.time() * 1000),
    }
    if int8_report is not None:
        card["int8"] = {"metrics": int8_report["metrics"], "shipped": int8_report["shipped"]}
    info = registry.log_and_register(task.model_name, onnx_path, card, int8_path=int8_path)
    for name, value in metrics.items():
        registry.client.set_model_version_tag(task.model_name, info.version, f"metric.{name}", f"{value:.4f}")

    def announce(event: str, **details: Any) -> None:
        message = model_event(
            event,
            task.model_name,
            info.version,
            run_id=tracker.run_id,
            metrics=metrics,
            uri=info.uri,
            **details,
        )
        publish_model_event(settings, message)

    announce("trained")
    out: dict[str, Any] = {"version": info.version, "uri": info.uri}
    if not config.gate:
        return out
    champion_metrics = _score_champion(registry, task, champion, heldout) if champion else None
    if champion is not None and champion_metrics is None:
        decision = GateDecision(
            False,
            f"champion v{champion.version} uses other preprocessing and cannot be scored on the same held-out"
            " data; promote by hand with `fieldstream models promote` after checking",
            task.gate.metric,
            metrics[task.gate.metric],
            None,
        )
    else:
        decision = decide(metrics, champion_metrics, task.gate)
    tracker.set_tags({"gate.passed": decision.passed, "gate.reason": decision.reason})
    announce("evaluated", reason=decision.reason)
    if decision.passed:
        registry.promote(task.model_name, info.version, decision.reason)
        announce("promoted", alias=CHAMPION, reason=decision.reason)
    else:
        announce("rejected", reason=decision.reason)
    out["gate"] = {
        "passed": decision.passed,
        "reason": decision.reason,
        "champion_version": champion.version if champion else None,
        "champion_metrics": champion_metrics,
    }
    return out


def _score_champion(registry: Any, task: Task, champion: Any, heldout: Dataset) -> dict[str, float] | None:
    """The champion's metrics on the candidate's held-out set (None when it cannot be scored there)."""
    downloaded = registry.download(task.model_name, champion.version)
    spec = downloaded.card.get("spec", {})
    if spec.get("preprocess") != task.spec.preprocess.to_dict():
        log.warning("champion uses other preprocessing; it cannot be scored on the candidate's held-out data")
        return None
    if tuple(spec.get("class_names", ())) != task.spec.class_names:
        log.warning("champion predicts other classes; it cannot be scored on the candidate's held-out data")
        return None
    scores = task.evaluate_onnx(str(downloaded.onnx_path), heldout)
    return {k: float(v) for k, v in scores.items() if np.isfinite(v)}
