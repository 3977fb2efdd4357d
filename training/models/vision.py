"""The crop/weed detector: a small CenterNet-style (anchor-free) network, trained from scratch.

Why anchor-free (CenterNet: "Objects as Points"):

- the model is small and trained from scratch on simulated frames; anchors would add box priors
  (sizes, aspect ratios, assignment IoU thresholds) to tune per dataset, and plants of very different
  sizes (chickweed mats to maize) would need many of them;
- one centre peak per object means decoding is a 3x3 max-pool + top-K: no anchor grid and, in
  principle, no NMS (we still run a cheap class-wise NMS in numpy against duplicate peaks);
- the graph is convolutions, BatchNorm, ReLU and nearest-neighbour upsampling only, so it exports
  to ONNX (and TensorRT) cleanly with a dynamic batch axis and matches PyTorch to ~1e-6.

The exported graph outputs the raw head maps (``heatmap_logits``, ``box_size``, ``center_offset``),
not decoded boxes: the graph stays free of TopK/gather/NMS ops with data-dependent shapes, parity
checks compare dense tensors, the runtime can change K, score threshold and NMS without a re-export,
and decoding the small maps in numpy (:mod:`model_contract.detections`) costs well under a millisecond.

Architecture: conv-BN-ReLU backbone down to stride 32 (widths ``(16, 24, 48, 96, 128)`` by default),
an FPN-style top-down path with lateral 1x1 convs back to stride 4, and three 3x3+1x1 heads.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch
from torch import nn
from torch.nn import functional as fn

from model_contract.preprocess import VisionPreprocessConfig
from model_contract.spec import DETECTION, ModelSpec
from training.models.blocks import conv_bn_relu, merge_arch

CLASS_NAMES: tuple[str, ...] = ("crop", "weed")
OUTPUT_NAMES: tuple[str, ...] = ("heatmap_logits", "box_size", "center_offset")
DEFAULT_ARCH: dict[str, Any] = {"widths": [16, 24, 48, 96, 128], "neck": 48, "head": 32}
HEAT_PRIOR = 0.01  # initial centre probability (RetinaNet/CenterNet prior; keeps early focal loss sane)


def vision_spec(
    preprocess: VisionPreprocessConfig | None = None,
    class_names: tuple[str, ...] = CLASS_NAMES,
    name: str = "fieldstream-vision-centernet",
    **arch: Any,
) -> ModelSpec:
    """The spec of a detector; ``arch`` overrides :data:`DEFAULT_ARCH` keys."""
    pre = preprocess or VisionPreprocessConfig()
    if pre.input_width % 32 or pre.input_height % 32:
        raise ValueError("the detector needs input width and height divisible by 32")
    merged = merge_arch(DEFAULT_ARCH, arch)
    return ModelSpec(
        name=name,
        task=DETECTION,
        class_names=tuple(class_names),
        preprocess=pre,
        input_name="images",
        output_names=OUTPUT_NAMES,
        output_stride=4,
        arch=merged,
    )


def _head(cin: int, mid: int, cout: int) -> nn.Sequential:
    return nn.Sequential(conv_bn_relu(cin, mid), nn.Conv2d(mid, cout, 1))


class CenterNetDetector(nn.Module):
    """(N, 3, H, W) normalised images -> (heatmap logits (N, C, H/4, W/4), log box size, offset)."""

    def __init__(self, spec: ModelSpec | None = None) -> None:
        super().__init__()
        self.spec = spec = spec or vision_spec()
        if spec.task != DETECTION or spec.output_stride != 4:
            raise ValueError("CenterNetDetector needs a detection spec with output_stride 4")
        w1, w2, w3, w4, w5 = spec.arch["widths"]
        neck, head = int(spec.arch["neck"]), int(spec.arch["head"])
        self.stem = conv_bn_relu(3, w1, 2)  # /2
        self.stage4 = nn.Sequential(conv_bn_relu(w1, w2, 2), conv_bn_relu(w2, w2))  # /4
        self.stage8 = nn.Sequential(conv_bn_relu(w2, w3, 2), conv_bn_relu(w3, w3))  # /8
        self.stage16 = nn.Sequential(conv_bn_relu(w3, w4, 2), conv_bn_relu(w4, w4))  # /16
        self.stage32 = nn.Sequential(conv_bn_relu(w4, w5, 2), conv_bn_relu(w5, w5))  # /32
        self.lateral = nn.ModuleList(nn.Conv2d(c, neck, 1) for c in (w2, w3, w4, w5))
        self.smooth = nn.ModuleList(conv_bn_relu(neck, neck) for _ in range(3))
        self.heat = _head(neck, head, spec.num_classes)
        self.size = _head(neck, head, 2)
        self.offset = _head(neck, head, 2)
        nn.init.constant_(self.heat[-1].bias, -math.log((1 - HEAT_PRIOR) / HEAT_PRIOR))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c4 = self.stage4(self.stem(x))
        c8 = self.stage8(c4)
        c16 = self.stage16(c8)
        c32 = self.stage32(c16)
        p = self.lateral[3](c32)
        for lateral, smooth, skip in zip(self.lateral[2::-1], self.smooth, (c16, c8, c4), strict=True):
            p = smooth(fn.interpolate(p, scale_factor=2.0, mode="nearest") + lateral(skip))
        return self.heat(p), self.size(p), self.offset(p)


def build_vision_model(spec: ModelSpec | None = None) -> CenterNetDetector:
    """A freshly initialised detector for ``spec`` (default: 2 classes at 256 x 192)."""
    return CenterNetDetector(spec)


def with_input_size(spec: ModelSpec, width: int, height: int) -> ModelSpec:
    """The same spec at another input size (e.g. a tiny one for tests)."""
    if not isinstance(spec.preprocess, VisionPreprocessConfig):
        raise TypeError("with_input_size needs a vision spec")
    pre = replace(spec.preprocess, input_width=width, input_height=height)
    return vision_spec(pre, spec.class_names, spec.name, **spec.arch)


class CenterNetLoss(nn.Module):
    """Penalty-reduced focal loss on the heatmap + L1 on log-size and offset at centre cells.

    All three terms are normalised by the number of objects in the batch (at least 1). Returns a dict
    with ``loss`` (the weighted sum) and the parts ``heatmap``, ``size``, ``offset``.
    """

    def __init__(
        self, size_weight: float = 1.0, offset_weight: float = 1.0, alpha: float = 2.0, beta: float = 4.0
    ) -> None:
        super().__init__()
        self.size_weight, self.offset_weight = size_weight, offset_weight
        self.alpha, self.beta = alpha, beta

    def forward(
        self, outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor], targets: dict[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        logits, size, offset = outputs
        heat_t, mask = targets["heatmap"], targets["mask"].unsqueeze(1)
        num = mask.sum().clamp(min=1.0)
        prob = torch.sigmoid(logits)
        pos = heat_t.eq(1.0).float()
        pos_loss = -fn.logsigmoid(logits) * (1 - prob).pow(self.alpha) * pos
        neg_loss = -fn.logsigmoid(-logits) * prob.pow(self.alpha) * (1 - heat_t).pow(self.beta) * (1 - pos)
        focal = (pos_loss.sum() + neg_loss.sum()) / num
        size_l1 = (fn.l1_loss(size, targets["box_size"], reduction="none") * mask).sum() / num
        off_l1 = (fn.l1_loss(offset, targets["center_offset"], reduction="none") * mask).sum() / num
        total = focal + self.size_weight * size_l1 + self.offset_weight * off_l1
        return {"loss": total, "heatmap": focal, "size": size_l1, "offset": off_l1}


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
