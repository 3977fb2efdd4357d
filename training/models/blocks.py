"""What the two models are built from: the 3x3 conv-BN-ReLU block, and the architecture knobs of a
spec (defaults plus checked overrides).

Both networks are stacks of :func:`conv_bn_relu`; its layer order (conv ``0``, BN ``1``, ReLU ``2``)
names the weights in checkpoints and exported graphs, so it stays as it is.
"""

from __future__ import annotations

from typing import Any

from torch import nn


def conv_bn_relu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution (padding 1, no bias: the BN carries it), BatchNorm, in-place ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def merge_arch(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A spec's ``arch``: ``defaults`` with ``overrides``; a key the model does not have is an error."""
    unknown = set(overrides) - set(defaults)
    if unknown:
        raise ValueError(f"unknown arch keys {sorted(unknown)}")
    return {**defaults, **overrides}
