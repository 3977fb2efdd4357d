"""The species classifier: a small CNN on log-mel spectrograms, multi-label (sigmoid + BCE).

Input (N, 1, n_mels, T) from :func:`model_contract.preprocess.log_mel`; output (N, K) logits, one per
species. Layout: a conv-BN-ReLU stem, then blocks of 3x3 conv-BN-ReLU, each followed by 2x2
average pooling (widths ``(16, 32, 64, 128)``; the first blocks have one conv, the last ones two,
since full-resolution convs dominate the cost on a CPU). The remaining frequency rows are *flattened
into channels* rather than averaged away: species here are told apart largely by their frequency band,
and a global frequency mean would leave a convolutional net nearly blind to absolute frequency. A
1x1 temporal conv mixes them, then max + mean pooling over time (a call may fill any part of the 5 s)
and a linear layer give the logits. Exports to ONNX with a dynamic batch axis.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as fn

from model_contract.preprocess import AudioPreprocessConfig
from model_contract.spec import MULTILABEL, ModelSpec
from training.models.blocks import conv_bn_relu, merge_arch

DEFAULT_ARCH: dict[str, Any] = {
    "widths": [16, 32, 64, 128],
    "convs": [1, 1, 2, 2],
    "hidden": 128,
    "dropout": 0.2,
}


def audio_spec(
    class_names: tuple[str, ...],
    preprocess: AudioPreprocessConfig | None = None,
    name: str = "fieldstream-audio-cnn",
    **arch: Any,
) -> ModelSpec:
    """The spec of a species classifier over ``class_names``; ``arch`` overrides :data:`DEFAULT_ARCH`."""
    pre = preprocess or AudioPreprocessConfig()
    merged = merge_arch(DEFAULT_ARCH, arch)
    if len(merged["widths"]) != len(merged["convs"]):
        raise ValueError("widths and convs must have the same length")
    if pre.n_mels % (2 ** len(merged["widths"])):
        raise ValueError(f"n_mels must be divisible by {2 ** len(merged['widths'])}")
    return ModelSpec(
        name=name,
        task=MULTILABEL,
        class_names=tuple(class_names),
        preprocess=pre,
        input_name="log_mel",
        output_names=("logits",),
        arch=merged,
    )


class SpeciesCNN(nn.Module):
    """(N, 1, n_mels, T) log-mel -> (N, K) species logits."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        if spec.task != MULTILABEL or not isinstance(spec.preprocess, AudioPreprocessConfig):
            raise ValueError("SpeciesCNN needs a multilabel spec with an audio preprocess config")
        self.spec = spec
        widths, convs = spec.arch["widths"], spec.arch["convs"]
        layers: list[nn.Module] = []
        cin = 1
        for width, count in zip(widths, convs, strict=True):
            for _ in range(count):
                layers.append(conv_bn_relu(cin, width))
                cin = width
            layers.append(nn.AvgPool2d(2))
        self.features = nn.Sequential(*layers)
        rows = spec.preprocess.n_mels // 2 ** len(widths)
        hidden = int(spec.arch["hidden"])
        self.mix = nn.Sequential(
            nn.Conv1d(cin * rows, hidden, 1, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True)
        )
        self.dropout = float(spec.arch["dropout"])
        self.classifier = nn.Linear(hidden, spec.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)  # (N, C, F', T')
        x = self.mix(x.flatten(1, 2))  # (N, hidden, T')
        x = x.amax(dim=2) + x.mean(dim=2)
        x = fn.dropout(x, self.dropout, self.training)
        return self.classifier(x)


def build_audio_model(spec: ModelSpec) -> SpeciesCNN:
    """A freshly initialised classifier for ``spec``."""
    return SpeciesCNN(spec)


class MultiLabelLoss(nn.Module):
    """Mean binary cross-entropy over species and examples; returns ``{"loss": ...}``."""

    def __init__(self, pos_weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("pos_weight", pos_weight if pos_weight is not None else None)

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> dict[str, torch.Tensor]:
        loss = fn.binary_cross_entropy_with_logits(
            logits, targets.to(logits.dtype), pos_weight=self.pos_weight
        )
        return {"loss": loss}
