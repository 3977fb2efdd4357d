"""COCO-style detection mAP (bbox, area "all"), per class and mean, in numpy.

Follows ``pycocotools.COCOeval`` for the parts that apply to our data (no crowd, no ignore, one
area range):

- per image and class, detections are sorted by score (stable) and cut to ``max_dets``;
- greedy matching in score order: each detection takes the unmatched ground truth of the same class
  with the highest IoU, if that IoU >= the threshold; otherwise it is a false positive;
- per class and IoU threshold, all detections of all images are sorted by score (stable merge sort),
  precision is made monotone (the running maximum from the right), and sampled at 101 recall points
  ``0, 0.01, ..., 1`` (the first detection index reaching each recall; 0 beyond the last recall);
  AP is their mean;
- IoU thresholds ``0.50:0.05:0.95``; mAP@0.5 uses the first, mAP@0.5:0.95 averages all ten.

A class with no ground truth in any image has AP ``nan`` and is left out of the means (COCO: -1).
Boxes are xyxy in any consistent unit (we use normalised 0..1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from model_contract.detections import Detections, box_iou, decode_detections

COCO_IOU_THRESHOLDS: np.ndarray = np.linspace(0.5, 0.95, 10)
RECALL_POINTS: np.ndarray = np.linspace(0.0, 1.0, 101)
#: How held-out predictions are decoded for mAP: a low score threshold keeps the whole PR curve.
EVAL_TOP_K = 100
EVAL_SCORE_THRESHOLD = 0.01
EVAL_NMS_IOU = 0.6


#: Predictions for one image, ``boxes`` (K, 4) xyxy, ``scores`` (K,), ``classes`` (K,) int: what the
#: runtime's decoding returns (:class:`model_contract.detections.Detections`), scored as it is.
ImageDetections = Detections


@dataclass(frozen=True)
class ImageGroundTruth:
    """Ground truth of one image: ``boxes`` (M, 4) xyxy, ``classes`` (M,) int."""

    boxes: np.ndarray
    classes: np.ndarray


@dataclass(frozen=True)
class DetectionMetrics:
    """mAP results; ``ap`` is (num_classes, num_iou_thresholds) with ``nan`` for classes without GT."""

    map_50: float
    map_50_95: float
    ap_50: tuple[float, ...]  # per class
    ap_50_95: tuple[float, ...]  # per class
    ap: np.ndarray
    iou_thresholds: np.ndarray

    def as_dict(self, class_names: Sequence[str] | None = None) -> dict[str, float]:
        """Flat ``{"map_50": .., "map_50_95": .., "ap_50/<class>": .., ...}`` for logging."""
        names = list(class_names) if class_names is not None else [str(i) for i in range(len(self.ap_50))]
        out = {"map_50": self.map_50, "map_50_95": self.map_50_95}
        for name, a50, a in zip(names, self.ap_50, self.ap_50_95, strict=True):
            out[f"ap_50/{name}"] = a50
            out[f"ap_50_95/{name}"] = a
        return out


def average_precision_101(tp: np.ndarray, num_gt: int) -> float:
    """COCO 101-point interpolated AP from true-positive flags in descending score order."""
    if num_gt <= 0:
        return float("nan")
    tp = np.asarray(tp, dtype=np.float64)
    if tp.size == 0:
        return 0.0
    tp_cum = np.cumsum(tp)
    fp_cum = np.cumsum(1.0 - tp)
    recall = tp_cum / num_gt
    precision = tp_cum / np.maximum(tp_cum + fp_cum, np.finfo(np.float64).eps)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    idx = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(idx < recall.size, precision[np.minimum(idx, recall.size - 1)], 0.0)
    return float(sampled.mean())


def _match(dt_boxes: np.ndarray, gt_boxes: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(T, D) true-positive flags of detections (already in score order) at each IoU threshold."""
    flags = np.zeros((thresholds.size, dt_boxes.shape[0]), dtype=bool)
    if dt_boxes.shape[0] == 0 or gt_boxes.shape[0] == 0:
        return flags
    ious = box_iou(dt_boxes, gt_boxes)
    bar = np.minimum(thresholds, 1 - 1e-10)  # COCO: a match needs iou >= min(t, 1 - 1e-10)
    taken = np.zeros((thresholds.size, gt_boxes.shape[0]), dtype=bool)  # per threshold
    rows = np.arange(thresholds.size)
    for d in range(dt_boxes.shape[0]):
        candidates = np.where(taken, -1.0, ious[d][None, :])
        best = candidates.argmax(axis=1)  # the free GT with the highest IoU, per threshold
        hit = candidates[rows, best] >= bar
        taken[rows[hit], best[hit]] = True
        flags[hit, d] = True
    return flags


def mean_average_precision(
    predictions: Sequence[ImageDetections],
    ground_truths: Sequence[ImageGroundTruth],
    num_classes: int,
    iou_thresholds: np.ndarray = COCO_IOU_THRESHOLDS,
    max_dets: int = 100,
) -> DetectionMetrics:
    """mAP over images (``predictions[i]`` and ``ground_truths[i]`` are the same image)."""
    if len(predictions) != len(ground_truths):
        raise ValueError("predictions and ground_truths must list the same images")
    thresholds = np.asarray(iou_thresholds, dtype=np.float64)
    ap = np.full((num_classes, thresholds.size), np.nan)
    for c in range(num_classes):
        scores: list[np.ndarray] = []
        flags: list[np.ndarray] = []
        num_gt = 0
        for pred, gt in zip(predictions, ground_truths, strict=True):
            g_boxes = np.asarray(gt.boxes, dtype=np.float64).reshape(-1, 4)[np.asarray(gt.classes) == c]
            p_cls = np.asarray(pred.classes).reshape(-1) == c
            p_boxes = np.asarray(pred.boxes, dtype=np.float64).reshape(-1, 4)[p_cls]
            p_scores = np.asarray(pred.scores, dtype=np.float64).reshape(-1)[p_cls]
            order = np.argsort(-p_scores, kind="mergesort")[:max_dets]
            num_gt += g_boxes.shape[0]
            scores.append(p_scores[order])
            flags.append(_match(p_boxes[order], g_boxes, thresholds))
        if num_gt == 0:
            continue
        all_scores = np.concatenate(scores) if scores else np.zeros(0)
        all_flags = np.concatenate(flags, axis=1) if flags else np.zeros((thresholds.size, 0), dtype=bool)
        order = np.argsort(-all_scores, kind="mergesort")
        for t in range(thresholds.size):
            ap[c, t] = average_precision_101(all_flags[t, order], num_gt)
    ap_50 = ap[:, 0]
    ap_50_95 = ap.mean(axis=1)  # nan stays nan for classes without GT
    has_gt = ~np.isnan(ap_50)
    return DetectionMetrics(
        map_50=float(ap_50[has_gt].mean()) if has_gt.any() else float("nan"),
        map_50_95=float(ap_50_95[has_gt].mean()) if has_gt.any() else float("nan"),
        ap_50=tuple(float(v) for v in ap_50),
        ap_50_95=tuple(float(v) for v in ap_50_95),
        ap=ap,
        iou_thresholds=thresholds,
    )


def detections_from_maps(
    batches: Iterable[Sequence[np.ndarray]],
    *,
    top_k: int = EVAL_TOP_K,
    score_threshold: float = EVAL_SCORE_THRESHOLD,
    nms_iou: float | None = EVAL_NMS_IOU,
) -> list[ImageDetections]:
    """Per-image detections of batches of the detector's head maps ``(heatmap logits, box size,
    offset)``, decoded as the runtime decodes them (:func:`model_contract.detections.decode_detections`)."""
    return [
        det
        for heat, size, offset in batches
        for det in decode_detections(
            heat, size, offset, top_k=top_k, score_threshold=score_threshold, nms_iou=nms_iou
        )
    ]
