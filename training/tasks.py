"""The training task of each modality behind one small interface: datasets, model, loss, metrics, gate.

The DDP trainer (:mod:`training.ddp`) only talks to a :class:`Task`; a task knows its
:class:`~fieldstream.modality.Modality`, how to build its (train, held-out) datasets from the
simulators, an offline-store snapshot or a dataset folder, its model and loss, and its gate policy.
A torch model (every epoch) and its exported ONNX model (the gate) are scored by one skeleton: the
model's outputs over the held-out set, per batch, go through the task's :meth:`Task.score`, so the
candidate, its export and the champion are measured by the same code. :func:`make_task` looks the
task up by the modality's name (``TrainConfig.task``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
from torch import nn
from torch.utils.data import Dataset

from fieldstream.modality import AUDIO, VISION, Modality
from model_contract.spec import ModelSpec
from training.config import TrainConfig
from training.export import onnx_outputs
from training.gate import AUDIO_GATE, VISION_GATE, GatePolicy
from training.loop import predict
from training.metrics.detection import detections_from_maps, mean_average_precision
from training.metrics.multilabel import species_scores
from training.models.audio import MultiLabelLoss, audio_spec, build_audio_model
from training.models.vision import CenterNetLoss, build_vision_model, vision_spec, with_input_size

#: Model outputs over a held-out set: per batch, one array per output (torch or ONNX Runtime alike).
Outputs = list[list[np.ndarray]]


class Task:
    """One modality's training: subclasses name the modality, the production gate and what differs."""

    modality: ClassVar[Modality]
    production_gate: ClassVar[GatePolicy]
    #: held-out batch of the torch evaluation each epoch
    eval_batch_size: ClassVar[int]

    def __init__(self, config: TrainConfig) -> None:
        self.model_name = config.registered_model
        self.gate = gate_policy(self.production_gate, config)
        self.spec = self.build_spec(config)
        #: what the datasets were built from, set by :meth:`datasets` for snapshots and dataset folders
        self.manifest: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        """The modality's name: ``vision`` | ``audio``."""
        return self.modality.name

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
        """(train, held-out) from the simulator, each from its own seed."""
        build, options = self.simulator()
        return build(
            config.train_size,
            config.heldout_size,
            train_seed=config.train_seed,
            heldout_seed=config.heldout_seed,
            preprocess=self.spec.preprocess,
            **options,
        )

    def evaluate(self, model: nn.Module, heldout: Dataset, device: str) -> dict[str, float]:
        """The torch model's metrics on the held-out set."""
        return self.score(predict(model, heldout, device, self.eval_batch_size), heldout)

    def evaluate_onnx(self, onnx_path: str, heldout: Dataset) -> dict[str, float]:
        """The exported model's metrics on the held-out set (CPU ONNX Runtime, as the workers run it)."""
        return self.score(onnx_outputs(onnx_path, heldout), heldout)

    def build_spec(self, config: TrainConfig) -> ModelSpec:
        raise NotImplementedError

    def simulator(self) -> tuple[Any, dict[str, Any]]:
        """The simulated-datasets builder of :mod:`training.data.simulated` and its task options."""
        raise NotImplementedError

    def build_model(self) -> nn.Module:
        raise NotImplementedError

    def loss(self) -> nn.Module:
        raise NotImplementedError

    def score(self, outputs: Outputs, heldout: Dataset) -> dict[str, float]:
        """The task's metrics (its gate metric among them) from a model's outputs on ``heldout``."""
        raise NotImplementedError

    def runtime_extras(self) -> dict[str, Any]:
        """What the runtime needs beside the spec, stored in the exported model's metadata."""
        return {}


class VisionTask(Task):
    modality = VISION
    production_gate = VISION_GATE
    eval_batch_size = 16

    def build_spec(self, config: TrainConfig) -> ModelSpec:
        names = {"class_names": config.class_names} if config.class_names else {}
        spec = vision_spec(**names, **config.arch)
        return with_input_size(spec, *config.input_size) if config.input_size else spec

    def simulator(self) -> tuple[Any, dict[str, Any]]:
        from training.data.simulated import build_vision_datasets

        return build_vision_datasets, {}

    def build_model(self) -> nn.Module:
        return build_vision_model(self.spec)

    def loss(self) -> nn.Module:
        return CenterNetLoss()

    def score(self, outputs: Outputs, heldout: Dataset) -> dict[str, float]:
        """``map50``, ``map50_95`` and per-class ``ap_50/<name>``, ``ap_50_95/<name>`` (COCO mAP of the
        head maps decoded as the runtime decodes them)."""
        predictions = detections_from_maps(outputs)
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
    modality = AUDIO
    production_gate = AUDIO_GATE
    eval_batch_size = 64

    def build_spec(self, config: TrainConfig) -> ModelSpec:
        from producers.soundscape import BASE_SPECIES_IDS

        return audio_spec(tuple(config.class_names or BASE_SPECIES_IDS), **config.arch)

    def simulator(self) -> tuple[Any, dict[str, Any]]:
        from training.data.simulated import build_audio_datasets

        return build_audio_datasets, {"class_names": self.spec.class_names}

    def build_model(self) -> nn.Module:
        return build_audio_model(self.spec)

    def loss(self) -> nn.Module:
        return MultiLabelLoss()

    def score(self, outputs: Outputs, heldout: Dataset) -> dict[str, float]:
        """``macro_roc_auc`` and ``padded_cmap`` of the species logits."""
        logits = np.concatenate([batch[0] for batch in outputs])
        truth = np.stack([heldout[i][1].numpy() for i in range(len(logits))])
        return species_scores(truth, logits)

    def runtime_extras(self) -> dict[str, Any]:
        from producers.soundscape import SPECIES_BY_ID

        names = {sid: SPECIES_BY_ID[sid].name for sid in self.spec.class_names if sid in SPECIES_BY_ID}
        return {"display_names": names, "thresholds": {}}


#: The task of each modality, by the modality's name.
TASKS: dict[str, type[Task]] = {task.modality.name: task for task in (VisionTask, AudioTask)}


def gate_policy(default: GatePolicy, config: TrainConfig) -> GatePolicy:
    """The task's production policy with the run's overrides (``--gate-floor``, ``--gate-margin``)."""
    changes = {"floor": config.gate_floor, "margin": config.gate_margin}
    return replace(default, **{k: v for k, v in changes.items() if v is not None})


def make_task(config: TrainConfig) -> Task:
    """The task ``config.task`` names (a modality's name)."""
    return TASKS[config.task](config)
