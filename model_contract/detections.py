"""Turning the detector's CenterNet head maps into boxes, in numpy (no torch): the model contract's
output decoding, run by the workers, the KServe server and training's evaluation alike.

Head maps on the stride-``s`` output grid: ``heatmap`` (N, C, H, W) per-class centre logits,
``box_size`` (N, 2, H, W) log width/height in cells, ``center_offset`` (N, 2, H, W) sub-cell centre.
Decoding: sigmoid -> 3x3 max-pool peak picking (a cell survives when it equals the max of its 3x3
neighbourhood) -> top-K over classes and cells -> boxes from size + offset -> class-wise NMS.
Boxes are normalised xyxy in 0..1 everywhere (as the simulator and the message contracts have them).
The targets these maps are trained against: :mod:`training.models.centernet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOG_SIZE_CLIP = 8.0


@dataclass(frozen=True)
class Detections:
    """Detections of one image: ``boxes`` (K, 4) normalised xyxy, ``scores`` (K,), ``classes`` (K,)."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically safe logistic function (float32 in, float32 out)."""
    x = np.asarray(x, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xyxy boxes: (A, 4) x (B, 4) -> (A, B) float64."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS; indices of the kept boxes, highest score first."""
    order = np.argsort(-scores, kind="stable")
    if order.size == 0:
        return order
    ious = box_iou(boxes[order], boxes[order])
    suppressed = np.zeros(order.size, dtype=bool)
    keep = []
    for i in range(order.size):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= ious[i] > iou_threshold
    return order[np.asarray(keep, dtype=np.int64)]


def classwise_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float
) -> np.ndarray:
    """NMS within each class (boxes of different classes never suppress each other)."""
    shifted = boxes + (classes.astype(np.float64) * 2.0)[:, None]  # classes land in disjoint squares
    return nms(shifted, scores, iou_threshold)


def decode_detections(
    heatmap: np.ndarray,
    box_size: np.ndarray,
    center_offset: np.ndarray,
    *,
    from_logits: bool = True,
    top_k: int = 100,
    score_threshold: float = 0.05,
    nms_iou: float | None = 0.6,
) -> list[Detections]:
    """Batched head maps -> per-image detections, highest score first.

    ``heatmap`` (N, C, H, W) logits (or probabilities with ``from_logits=False``), ``box_size`` and
    ``center_offset`` (N, 2, H, W). At most ``top_k`` peaks above ``score_threshold`` per image,
    then class-wise NMS at ``nms_iou`` (None: no NMS).
    """
    heat = sigmoid(heatmap) if from_logits else np.asarray(heatmap, dtype=np.float32)
    if heat.ndim != 4:
        raise ValueError(f"heatmap must be (N, C, H, W), got {heat.shape}")
    n, _, h, w = heat.shape
    # the cells above the threshold in the whole batch at once (a handful per image), kept where they
    # are the max of their 3x3 neighbourhood (a 3x3 max-pool's test, at those cells only); per image
    # only the cheap part is left: a frame costs a few numpy calls for the whole batch, not dozens
    image, cls, iy, ix = np.nonzero(heat > score_threshold)
    scores = heat[image, cls, iy, ix]
    if scores.size:
        padded = np.pad(heat, [(0, 0), (0, 0), (1, 1), (1, 1)], constant_values=-np.inf)
        peak = np.ones(scores.shape, dtype=bool)
        for dy in range(3):
            for dx in range(3):
                peak &= padded[image, cls, iy + dy, ix + dx] <= scores
        image, cls, iy, ix, scores = image[peak], cls[peak], iy[peak], ix[peak], scores[peak]
    order = np.lexsort((-scores, image))  # by image, then highest score first (stable: ties by class, cell)
    image, cls, iy, ix, scores = image[order], cls[order], iy[order], ix[order], scores[order]
    cx = (ix + center_offset[image, 0, iy, ix]) / w
    cy = (iy + center_offset[image, 1, iy, ix]) / h
    bw = np.exp(np.clip(box_size[image, 0, iy, ix], -LOG_SIZE_CLIP, LOG_SIZE_CLIP)) / w
    bh = np.exp(np.clip(box_size[image, 1, iy, ix], -LOG_SIZE_CLIP, LOG_SIZE_CLIP)) / h
    boxes = np.clip(np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1), 0.0, 1.0)
    boxes = boxes.astype(np.float32)
    cls = cls.astype(np.int64)
    starts = np.searchsorted(image, np.arange(n + 1))
    results = []
    for b in range(n):
        first, end = int(starts[b]), min(int(starts[b + 1]), int(starts[b]) + top_k)
        kept = slice(first, end)
        box, score, klass = boxes[kept], scores[kept], cls[kept]
        if nms_iou is not None and end - first > 1:
            keep = classwise_nms(box, score, klass, nms_iou)
            box, score, klass = box[keep], score[keep], klass[keep]
        results.append(Detections(box, score, klass))
    return results
