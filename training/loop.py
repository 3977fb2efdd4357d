"""A plain, single-process training loop and the evaluations, free of global state.

Everything a step needs comes in as an argument, so the DDP trainer can hand in a
``DistributedDataParallel``-wrapped model and a loader with a ``DistributedSampler`` unchanged.

- :func:`train_epoch`: one pass over a loader; returns the mean of every loss part.
- :func:`predict`: a model's outputs over a dataset as numpy batches (what the training tasks score,
  like the exported model's).
- :func:`evaluate_vision`: detections decoded in numpy (the runtime's path) -> COCO mAP.
- :func:`evaluate_audio`: logits -> macro ROC-AUC and padded cmAP (:func:`predict_audio` gives the
  raw logits).

A loss function returns a scalar tensor or a dict with ``"loss"`` (plus parts to report).
Batches are ``(inputs, targets)`` where targets may be a tensor or a dict of tensors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from training.metrics.detection import (
    EVAL_NMS_IOU,
    EVAL_SCORE_THRESHOLD,
    EVAL_TOP_K,
    ImageDetections,
    detections_from_maps,
    mean_average_precision,
)
from training.metrics.multilabel import roc_auc, species_scores

LossFn = Callable[[Any, Any], torch.Tensor | Mapping[str, torch.Tensor]]


def to_device(obj: Any, device: torch.device | str) -> Any:
    """Move a tensor, or the tensors in a dict/list/tuple, to ``device``."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, Mapping):
        return {k: to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(to_device(v, device) for v in obj)
    return obj


def _loss_parts(result: torch.Tensor | Mapping[str, torch.Tensor]) -> Mapping[str, torch.Tensor]:
    return {"loss": result} if isinstance(result, torch.Tensor) else result


def _batch_size(inputs: Any) -> int:
    return int(inputs.shape[0]) if isinstance(inputs, torch.Tensor) else len(inputs)


def train_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    device: torch.device | str = "cpu",
    *,
    scheduler: Any | None = None,
    grad_clip: float | None = None,
    max_steps: int | None = None,
) -> dict[str, float]:
    """One epoch (or ``max_steps`` steps); ``scheduler.step()`` runs after every optimiser step.

    Returns the example-weighted means of the loss parts, plus ``examples``, ``steps``, ``seconds``.
    """
    model.train()
    sums: dict[str, float] = {}
    examples = steps = 0
    start = time.perf_counter()
    for inputs, targets in loader:
        if max_steps is not None and steps >= max_steps:
            break
        inputs, targets = to_device(inputs, device), to_device(targets, device)
        parts = _loss_parts(loss_fn(model(inputs), targets))
        optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = _batch_size(inputs)
        for name, value in parts.items():
            sums[name] = sums.get(name, 0.0) + float(value.detach()) * n
        examples += n
        steps += 1
    out = {name: total / max(examples, 1) for name, total in sums.items()}
    out.update(examples=float(examples), steps=float(steps), seconds=time.perf_counter() - start)
    return out


def _eval_loader(dataset: Dataset, batch_size: int) -> DataLoader:
    for flag in ("flip", "time_shift"):
        if getattr(dataset, flag, False):
            raise ValueError(f"evaluate on a dataset without augmentation ({flag}=True)")
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


def _eval_batches(
    model: nn.Module, dataset: Dataset, device: torch.device | str, batch_size: int
) -> Iterator[tuple[Any, Any]]:
    """``(model outputs, targets)`` batch by batch over ``dataset`` in order, in eval mode (call it
    under ``torch.no_grad``); a dataset that augments is refused."""
    model.eval()
    for inputs, targets in _eval_loader(dataset, batch_size):
        yield model(to_device(inputs, device)), targets


def _numpy(outputs: Any) -> list[np.ndarray]:
    """A model's output (one tensor or a tuple of them) as float32 numpy arrays, like ONNX Runtime's."""
    tensors = outputs if isinstance(outputs, list | tuple) else (outputs,)
    return [t.float().cpu().numpy() for t in tensors]


@torch.no_grad()
def predict(
    model: nn.Module, dataset: Dataset, device: torch.device | str = "cpu", batch_size: int = 32
) -> list[list[np.ndarray]]:
    """The model's outputs over ``dataset`` in order, per batch, as numpy: what
    :func:`training.export.onnx_outputs` gives for the exported model."""
    return [_numpy(outputs) for outputs, _ in _eval_batches(model, dataset, device, batch_size)]


@torch.no_grad()
def evaluate_vision(
    model: nn.Module,
    dataset: Dataset,
    device: torch.device | str = "cpu",
    *,
    batch_size: int = 16,
    loss_fn: LossFn | None = None,
    class_names: Sequence[str] | None = None,
    top_k: int = EVAL_TOP_K,
    score_threshold: float = EVAL_SCORE_THRESHOLD,
    nms_iou: float | None = EVAL_NMS_IOU,
) -> dict[str, float]:
    """COCO mAP of ``model`` on ``dataset`` (items ``(image, target maps)``, plus ``ground_truth(i)``).

    Returns ``map_50``, ``map_50_95``, per-class ``ap_50/<name>`` and ``ap_50_95/<name>``, ``loss``
    (when ``loss_fn`` is given), ``images`` and ``seconds``.
    """
    start = time.perf_counter()
    predictions: list[ImageDetections] = []
    loss_sum, count = 0.0, 0
    for outputs, targets in _eval_batches(model, dataset, device, batch_size):
        size = len(outputs[0])
        if loss_fn is not None:
            loss_sum += float(_loss_parts(loss_fn(outputs, to_device(targets, device)))["loss"]) * size
        predictions += detections_from_maps(
            [_numpy(outputs)], top_k=top_k, score_threshold=score_threshold, nms_iou=nms_iou
        )
        count += size
    ground_truths = [dataset.ground_truth(i) for i in range(count)]  # type: ignore[attr-defined]
    spec = getattr(model, "spec", None) or getattr(getattr(model, "module", None), "spec", None)  # DDP wraps
    names = class_names or (spec.class_names if spec is not None else None)
    num_classes = len(names) if names else int(dataset.num_classes)  # type: ignore[attr-defined]
    metrics = mean_average_precision(predictions, ground_truths, num_classes).as_dict(names)
    if loss_fn is not None:
        metrics["loss"] = loss_sum / max(count, 1)
    metrics.update(images=float(count), seconds=time.perf_counter() - start)
    return metrics


@torch.no_grad()
def predict_audio(
    model: nn.Module, dataset: Dataset, device: torch.device | str = "cpu", batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """(logits (N, K), targets (N, K)) of ``model`` over ``dataset``, in dataset order."""
    logits, truth = [], []
    for outputs, targets in _eval_batches(model, dataset, device, batch_size):
        logits.append(_numpy(outputs)[0])
        truth.append(targets.numpy())
    k = len(getattr(dataset, "class_names", ()))
    if not logits:
        return np.zeros((0, k), dtype=np.float32), np.zeros((0, k), dtype=np.float32)
    return np.concatenate(logits), np.concatenate(truth)


@torch.no_grad()
def evaluate_audio(
    model: nn.Module,
    dataset: Dataset,
    device: torch.device | str = "cpu",
    *,
    batch_size: int = 64,
    loss_fn: LossFn | None = None,
    class_names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Macro ROC-AUC, padded cmAP and per-class ``roc_auc/<name>`` (classes with positives and negatives).

    Also ``loss`` (when ``loss_fn`` is given), ``examples`` and ``seconds``.
    """
    start = time.perf_counter()
    logits, truth = predict_audio(model, dataset, device, batch_size)
    names = class_names or getattr(dataset, "class_names", None) or [str(k) for k in range(truth.shape[1])]
    metrics = species_scores(truth, logits)
    for k, name in enumerate(names):
        auc = roc_auc(truth[:, k], logits[:, k])
        if not np.isnan(auc):
            metrics[f"roc_auc/{name}"] = auc
    if loss_fn is not None:
        parts = _loss_parts(loss_fn(torch.from_numpy(logits).to(device), torch.from_numpy(truth).to(device)))
        metrics["loss"] = float(parts["loss"])
    metrics.update(examples=float(truth.shape[0]), seconds=time.perf_counter() - start)
    return metrics
