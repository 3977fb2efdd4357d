"""The crop/weed detector at inference: bytes -> model-size pixels, normalise (training's), heads -> boxes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from inference_workers.runtime.model import ModelRuntime
from model_contract.detections import decode_detections
from model_contract.preprocess import VisionPreprocessConfig, decode_for_model, prepare_images


class VisionRuntime(ModelRuntime):
    score_threshold: float = 0.3
    nms_iou: float = 0.5
    top_k: int = 100

    def decode(self, data: bytes) -> np.ndarray:
        config = self.spec.preprocess
        assert isinstance(config, VisionPreprocessConfig)
        return decode_for_model(data, config)

    def preprocess(self, inputs: Sequence[np.ndarray]) -> np.ndarray:
        config = self.spec.preprocess
        assert isinstance(config, VisionPreprocessConfig)
        return prepare_images(list(inputs), config)

    def postprocess(self, outputs: list[np.ndarray], count: int) -> list[list[dict[str, Any]]]:
        heat, size, offset = outputs
        threshold = float(self.extras.get("score_threshold", self.score_threshold))
        decoded = decode_detections(
            heat, size, offset, top_k=self.top_k, score_threshold=threshold, nms_iou=self.nms_iou
        )
        names = self.spec.class_names
        return [
            [
                {
                    "class_id": int(c),
                    "class_name": names[int(c)],
                    "score": round(float(s), 4),
                    "xyxy": [round(float(v), 5) for v in box],
                }
                for box, s, c in zip(d.boxes, d.scores, d.classes, strict=True)
            ]
            for d in decoded[:count]
        ]
