"""The two training tasks behind one small interface: datasets, model, loss, metrics, gate policy.

The DDP trainer (:mod:`training.ddp`) only talks to a :class:`Task`; a task knows how to build its
(train, held-out) datasets from the simulators or from an offline-store snapshot, its model and
loss, how to score a torch model and an exported ONNX model on held-out data, and its gate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import onnxruntime as ort
from torch import nn
from torch.utils.data import Dataset

from training.config import TrainConfig
from training.gate import AUDIO_GATE, VISION_GATE, GatePolicy
from training.metrics.detection import ImageDetections, mean_average_precision
from training.metrics.multilabel import macro_roc_auc, padded_cmap
from training.models.centernet import decode_detections
from training.models.spec import ModelSpec


@dataclass
class Task:
    name: str
    model_name: str
    gate: GatePolicy
    spec: ModelSpec
    #: what the datasets were built from, set by :meth:`datasets` for snapshots and dataset folders
    manifest: dict[str, Any] | None = None

    def datasets(self, config: TrainConfig) -> tuple[Dataset, Dataset]:
        """(train, held-out) from the source the config names."""
        if config.source == "snapshot":
            from training.data.snapshot import load_snapshot_datasets, read_manifest

            self.manifest = read_manifest(config.snapshot or "")
            return load_snapshot_datasets(config.snapshot or "", self.spec)
        if config.source == "dataset":
            from training.data.folders import load_folder_datasets

            train, heldout, self.manifest = load_folder_datasets(
                self.name, config.dataset or "", self.spec, config.heldout_fraction, config.train_seed
            )
            return train, heldout
        return self.simulated_datasets(config)

    def simulated_datasets(self, config: TrainConfig) -> tuple[Dataset, Dataset]:
        raise NotImplementedError

    def build_model(self) -> nn.Module:
        raise NotImplementedError

    def loss(self) -> nn.Module:
        raise NotImplementedError

    def evaluate(self, model: nn.Module, heldout: Dataset, device: str) -> dict[str, float]:
        raise NotImplementedError

    def evaluate_onnx(self, onnx_path: str, heldout: Dataset) -> dict[str, float]:
        raise NotImplementedError

    def runtime_extras(self) -> dict[str, Any]:
        return {}


def _onnx_outputs(onnx_path: str, heldout: Dataset, batch: int = 32) -> list[list[np.ndarray]]:
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    out = []
    for start in range(0, len(heldout), batch):  # type: ignore[arg-type]
        xs = np.stack([heldout[i][0].numpy() for i in range(start, min(start + batch, len(heldout)))])  # type: ignore[arg-type]
        out.append(session.run(None, {name: xs}))
    return out


class VisionTask(Task):
    def __init__(self, config: TrainConfig) -> None:
        from training.models.vision import vision_spec, with_input_size

        names = {"class_names": config.class_names} if config.class_names else {}
        spec = vision_spec(**names, **config.arch)
        if config.input_size:
            spec = with_input_size(spec, *config.input_size)
        super().__init__("vision", config.registered_model, gate_policy(VISION_GATE, config), spec)

    def simulated_datasets(self, config: TrainConfig) -> tuple[Dataset, Dataset]:
        from training.data.simulated import build_vision_datasets

        return build_vision_datasets(
            config.train_size,
            config.heldout_size,
            train_seed=config.train_seed,
            heldout_seed=config.heldout_seed,
            preprocess=self.spec.preprocess,  # type: ignore[arg-type]
        )

    def build_model(self) -> nn.Module:
        from training.models.vision import build_vision_model

        return build_vision_model(self.spec)

    def loss(self) -> nn.Module:
        from training.models.vision import CenterNetLoss

        return CenterNetLoss()

    def evaluate(self, model: nn.Module, heldout: Dataset, device: str) -> dict[str, float]:
        from training.loop import evaluate_vision

        metrics = evaluate_vision(model, heldout, device, class_names=self.spec.class_names)
        return {
            "map50": metrics["map_50"],
            "map50_95": metrics["map_50_95"],
            **{k: v for k, v in metrics.items() if k.startswith("ap_")},
        }

    def evaluate_onnx(self, onnx_path: str, heldout: Dataset) -> dict[str, float]:
        predictions = []
        for heat, size, offset in _onnx_outputs(onnx_path, heldout):
            for det in decode_detections(heat, size, offset, score_threshold=0.01, nms_iou=0.6):
                predictions.append(ImageDetections(det.boxes, det.scores, det.classes))
        truths = [heldout.ground_truth(i) for i in range(len(predictions))]  # type: ignore[attr-defined]
        m = mean_average_precision(predictions, truths, self.spec.num_classes).as_dict(self.spec.class_names)
        return {
            "map50": m["map_50"],
            "map50_95": m["map_50_95"],
            **{k: v for k, v in m.items() if k.startswith("ap_")},
        }

    def runtime_extras(self) -> dict[str, Any]:
        return {"score_threshold": 0.3}


class AudioTask(Task):
    def __init__(self, config: TrainConfig) -> None:
        from producers.soundscape import BASE_SPECIES_IDS
        from training.models.audio import audio_spec

        spec = audio_spec(tuple(config.class_names or BASE_SPECIES_IDS), **config.arch)
        super().__init__("audio", config.registered_model, gate_policy(AUDIO_GATE, config), spec)

    def simulated_datasets(self, config: TrainConfig) -> tuple[Dataset, Dataset]:
        from training.data.simulated import build_audio_datasets

        return build_audio_datasets(
            config.train_size,
            config.heldout_size,
            train_seed=config.train_seed,
            heldout_seed=config.heldout_seed,
            class_names=self.spec.class_names,
            preprocess=self.spec.preprocess,  # type: ignore[arg-type]
        )

    def build_model(self) -> nn.Module:
        from training.models.audio import build_audio_model

        return build_audio_model(self.spec)

    def loss(self) -> nn.Module:
        from training.models.audio import MultiLabelLoss

        return MultiLabelLoss()

    def evaluate(self, model: nn.Module, heldout: Dataset, device: str) -> dict[str, float]:
        from training.loop import evaluate_audio

        m = evaluate_audio(model, heldout, device, class_names=self.spec.class_names)
        return {"macro_roc_auc": m["macro_roc_auc"], "padded_cmap": m["padded_cmap"]}

    def evaluate_onnx(self, onnx_path: str, heldout: Dataset) -> dict[str, float]:
        logits = np.concatenate([outs[0] for outs in _onnx_outputs(onnx_path, heldout)])
        truth = np.stack([heldout[i][1].numpy() for i in range(len(logits))])
        scores = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        return {"macro_roc_auc": macro_roc_auc(truth, logits), "padded_cmap": padded_cmap(truth, scores)}

    def runtime_extras(self) -> dict[str, Any]:
        from producers.soundscape import SPECIES_BY_ID

        names = {sid: SPECIES_BY_ID[sid].name for sid in self.spec.class_names if sid in SPECIES_BY_ID}
        return {"display_names": names, "thresholds": {}}


def gate_policy(default: GatePolicy, config: TrainConfig) -> GatePolicy:
    """The task's production policy with the run's overrides (``--gate-floor``, ``--gate-margin``)."""
    changes = {"floor": config.gate_floor, "margin": config.gate_margin}
    return replace(default, **{k: v for k, v in changes.items() if v is not None})


def make_task(config: TrainConfig) -> Task:
    return VisionTask(config) if config.task == "vision" else AudioTask(config)
