"""``ModelSpec``: what a trained model is, beyond its weights (torch-free, JSON-ready).

Stored next to the ONNX file and in MLflow: class names, the preprocessing config the model was
trained with, the ONNX input/output names and the architecture knobs needed to rebuild the module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig

DETECTION = "detection"
MULTILABEL = "multilabel"


@dataclass(frozen=True)
class ModelSpec:
    """Everything besides the weights that serving and retraining need.

    - ``task``: ``"detection"`` (vision) or ``"multilabel"`` (audio).
    - ``output_stride``: input pixels per output cell (detection only).
    - ``arch``: constructor knobs (e.g. channel widths) so ``build_*_model(spec)`` rebuilds the module.
    """

    name: str
    task: str
    class_names: tuple[str, ...]
    preprocess: VisionPreprocessConfig | AudioPreprocessConfig
    input_name: str
    output_names: tuple[str, ...]
    output_stride: int | None = None
    arch: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in (DETECTION, MULTILABEL):
            raise ValueError(f"task must be {DETECTION!r} or {MULTILABEL!r}")
        if not self.class_names or len(set(self.class_names)) != len(self.class_names):
            raise ValueError("class_names must be non-empty and distinct")
        expected = VisionPreprocessConfig if self.task == DETECTION else AudioPreprocessConfig
        if not isinstance(self.preprocess, expected):
            raise TypeError(f"a {self.task} model needs a {expected.__name__}")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "class_names": list(self.class_names),
            "preprocess": self.preprocess.to_dict(),
            "input_name": self.input_name,
            "output_names": list(self.output_names),
            "output_stride": self.output_stride,
            "arch": dict(self.arch),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        task = data["task"]
        pre_cls = VisionPreprocessConfig if task == DETECTION else AudioPreprocessConfig
        return cls(
            name=data["name"],
            task=task,
            class_names=tuple(data["class_names"]),
            preprocess=pre_cls.from_dict(data["preprocess"]),
            input_name=data["input_name"],
            output_names=tuple(data["output_names"]),
            output_stride=data.get("output_stride"),
            arch=dict(data.get("arch", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        return cls.from_dict(json.loads(text))
