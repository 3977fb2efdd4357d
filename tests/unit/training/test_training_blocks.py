"""What both models are built from: the conv-BN-ReLU block and the arch knobs check."""

import pytest
from torch import nn

from training.models.audio import DEFAULT_ARCH as AUDIO_ARCH
from training.models.audio import audio_spec
from training.models.blocks import conv_bn_relu, merge_arch
from training.models.vision import DEFAULT_ARCH as VISION_ARCH
from training.models.vision import build_vision_model, vision_spec


def test_conv_bn_relu_keeps_the_layer_layout_that_names_the_weights():
    block = conv_bn_relu(3, 8, 2)
    conv, bn, relu = block
    assert isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and isinstance(relu, nn.ReLU)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.bias) == ((3, 3), (2, 2), (1, 1), None)
    assert relu.inplace and conv_bn_relu(8, 8)[0].stride == (1, 1)
    assert "stem.0.weight" in build_vision_model().state_dict()  # checkpoints and exports rely on it


def test_merge_arch_overrides_defaults_and_refuses_unknown_keys():
    assert merge_arch({"a": 1, "b": 2}, {"b": 3}) == {"a": 1, "b": 3}
    with pytest.raises(ValueError, match=r"unknown arch keys \['c', 'd'\]"):
        merge_arch({"a": 1}, {"d": 0, "c": 0})
    assert vision_spec(neck=8).arch == {**VISION_ARCH, "neck": 8}
    assert audio_spec(("x",), hidden=8).arch == {**AUDIO_ARCH, "hidden": 8}
    for build in (lambda: vision_spec(depth=3), lambda: audio_spec(("x",), depth=3)):
        with pytest.raises(ValueError, match="unknown arch keys"):
            build()
