"""``ModelRuntime``: one loaded model version with ``preprocess -> predict -> postprocess``.

Like a KServe model: subclasses say how to preprocess a batch of decoded inputs and turn the raw
outputs into detections; the base class runs the ONNX session and times each stage (the workers
and the server put those timings into their latency histograms, labelled with the model version).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnxruntime as ort

from model_contract.spec import ModelSpec


class ModelLoadError(RuntimeError):
    """The model could not be loaded or run."""


@dataclass
class Prediction:
    """Per-input results (list of dicts, one per input) and how long each stage took, in ms."""

    items: list[list[dict[str, Any]]]
    stage_ms: dict[str, float] = field(default_factory=dict)


class ModelRuntime(ABC):
    def __init__(
        self,
        name: str,
        version: str,
        spec: ModelSpec,
        session: ort.InferenceSession,
        provider: str,
        extras: dict[str, Any] | None = None,
        precision: str = "fp32",  # "int8" for a statically quantised model
    ) -> None:
        self.name = name
        self.version = version
        self.spec = spec
        self.session = session
        self.provider = provider
        self.extras = extras or {}
        self.precision = precision

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """Encoded media (JPEG/PNG, WAV/FLAC/OGG) -> what :meth:`preprocess` takes, or MediaDecodeError."""

    @abstractmethod
    def preprocess(self, inputs: Sequence[Any]) -> np.ndarray:
        """Decoded inputs -> the model's input tensor (the same function training used)."""

    @abstractmethod
    def postprocess(self, outputs: list[np.ndarray], count: int) -> list[list[dict[str, Any]]]:
        """Raw outputs -> one list of result dicts per input."""

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        return self.session.run(list(self.spec.output_names), {self.spec.input_name: tensor})

    def predict(self, inputs: Sequence[Any]) -> Prediction:
        if not inputs:
            return Prediction([])
        t0 = time.perf_counter()
        tensor = self.preprocess(inputs)
        t1 = time.perf_counter()
        outputs = self.run(tensor)
        t2 = time.perf_counter()
        items = self.postprocess(outputs, len(inputs))
        t3 = time.perf_counter()
        stages = {"preprocess": (t1 - t0) * 1e3, "infer": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3}
        return Prediction(items, stages)
