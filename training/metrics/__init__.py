"""Evaluation metrics in numpy (no torch), shared by training, the evaluation gate and benchmarks.

- :mod:`.detection`: COCO-style mAP@0.5 and mAP@0.5:0.95, per class and mean; the detector's head
  maps decoded into per-image detections.
- :mod:`.multilabel`: macro ROC-AUC (BirdCLEF 2025) and padded cmAP (BirdCLEF 2021-23), from logits.
"""

from training.metrics.detection import (
    COCO_IOU_THRESHOLDS,
    DetectionMetrics,
    ImageDetections,
    ImageGroundTruth,
    average_precision_101,
    detections_from_maps,
    mean_average_precision,
)
from training.metrics.multilabel import (
    average_precision,
    macro_roc_auc,
    padded_cmap,
    roc_auc,
    species_scores,
)

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "DetectionMetrics",
    "ImageDetections",
    "ImageGroundTruth",
    "average_precision",
    "average_precision_101",
    "detections_from_maps",
    "macro_roc_auc",
    "mean_average_precision",
    "padded_cmap",
    "roc_auc",
    "species_scores",
]
