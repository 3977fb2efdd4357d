"""The species classifier at inference: log-mel (training's), sigmoid, per-species thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from fieldstream.media_decoding import decode_audio
from inference_workers.runtime.model import ModelRuntime
from model_contract.preprocess import AudioPreprocessConfig, log_mel


class AudioRuntime(ModelRuntime):
    default_threshold: float = 0.5

    def decode(self, data: bytes) -> tuple[np.ndarray, int]:
        return decode_audio(data)

    def preprocess(self, inputs: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
        config = self.spec.preprocess
        assert isinstance(config, AudioPreprocessConfig)
        waves = [resample_to(w, sr, config.sample_rate) for w, sr in inputs]
        clip = config.clip_samples
        batch = np.zeros((len(waves), clip), np.float32)
        for i, w in enumerate(waves):
            batch[i, : min(clip, w.size)] = w[:clip]
        return log_mel(batch, config.sample_rate, config)

    def postprocess(self, outputs: list[np.ndarray], count: int) -> list[list[dict[str, Any]]]:
        logits = outputs[0][:count]
        probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
        names = self.spec.class_names
        display = self.extras.get("display_names", {})
        thresholds = self.extras.get("thresholds", {})
        results = []
        for row in probs:
            found = [
                {"id": names[k], "name": display.get(names[k], names[k]), "score": round(float(p), 4)}
                for k, p in enumerate(row)
                if p >= float(thresholds.get(names[k], self.default_threshold))
            ]
            results.append(sorted(found, key=lambda s: -s["score"]))
        return results


def resample_to(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Exact rational resampling (polyphase) when a chunk arrives at another sample rate."""
    if rate == target:
        return np.asarray(wave, np.float32)
    from math import gcd

    g = gcd(rate, target)
    return resample_poly(wave, target // g, rate // g).astype(np.float32)
