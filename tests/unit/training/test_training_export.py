"""ONNX export: one self-contained file, parity with PyTorch, dynamic batch, int8, TensorRT skip."""

import importlib.util

import numpy as np
import onnx
import pytest
import torch

from inference_workers.runtime.loading import load_runtime
from model_contract.metadata import PRECISION_METADATA_KEY
from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig, log_mel, prepare_images
from model_contract.spec import ModelSpec
from training.export import (
    ParityError,
    build_tensorrt_engine,
    check_parity,
    export_onnx,
    onnx_session,
    quantize_static_int8,
    read_spec_metadata,
)
from training.models.audio import audio_spec, build_audio_model
from training.models.vision import build_vision_model, vision_spec

TINY_VISION = VisionPreprocessConfig(64, 64)
TINY_AUDIO = AudioPreprocessConfig(clip_seconds=0.5, n_mels=32, hop_length=256)


def _randomise_batchnorm(model: torch.nn.Module, seed: int) -> None:
    """Non-trivial BN statistics and affine terms, so BN folding in the export is really exercised."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.3)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=gen) * 0.2)


@pytest.fixture(scope="module")
def vision_export(tmp_path_factory):
    torch.manual_seed(0)
    model = build_vision_model(vision_spec(TINY_VISION, widths=[8, 8, 16, 16, 16], neck=16, head=8))
    _randomise_batchnorm(model, 1)
    path = export_onnx(model, torch.randn(2, 3, 64, 64), tmp_path_factory.mktemp("vision") / "detector.onnx")
    return model, path


@pytest.fixture(scope="module")
def audio_export(tmp_path_factory):
    torch.manual_seed(0)
    model = build_audio_model(audio_spec(("a", "b", "c"), TINY_AUDIO, widths=[8, 8, 16, 16], hidden=16))
    _randomise_batchnorm(model, 2)
    example = torch.from_numpy(log_mel(np.zeros((2, 8000), np.float32), 32000, TINY_AUDIO))
    path = export_onnx(model, example, tmp_path_factory.mktemp("audio") / "species.onnx")
    return model, path


def test_export_writes_one_self_contained_file(vision_export):
    _, path = vision_export
    assert path.exists() and not path.with_name(path.name + ".data").exists()
    proto = onnx.load(str(path), load_external_data=False)
    assert all(init.data_location != onnx.TensorProto.EXTERNAL for init in proto.graph.initializer)


def test_vision_parity_and_dynamic_batch(vision_export):
    model, path = vision_export
    held_out = torch.from_numpy(
        prepare_images(np.random.default_rng(5).integers(0, 256, (3, 80, 90, 3), np.uint8), TINY_VISION)
    )
    assert check_parity(model, path, held_out) < 1e-4
    session = onnx_session(path)
    for batch in (1, 3):
        outs = session.run(None, {"images": held_out[:batch].numpy()})
        assert [o.shape for o in outs] == [(batch, 2, 16, 16), (batch, 2, 16, 16), (batch, 2, 16, 16)]


def test_audio_parity_and_dynamic_batch(audio_export):
    model, path = audio_export
    waves = np.random.default_rng(6).normal(0, 0.1, (3, 8000)).astype(np.float32)
    held_out = torch.from_numpy(log_mel(waves, 32000, TINY_AUDIO))
    assert check_parity(model, path, held_out) < 1e-4
    session = onnx_session(path)
    for batch in (1, 3):
        (logits,) = session.run(None, {"log_mel": held_out[:batch].numpy()})
        assert logits.shape == (batch, 3)


def test_onnx_input_is_exactly_what_preprocessing_produces(vision_export, audio_export):
    for (_, path), produced in (
        (vision_export, prepare_images(np.zeros((1, 30, 40, 3), np.uint8), TINY_VISION)),
        (audio_export, log_mel(np.zeros(4000, np.float32), 32000, TINY_AUDIO)),
    ):
        spec = ModelSpec.from_dict(read_spec_metadata(path))
        (inp,) = onnx_session(path).get_inputs()
        assert inp.name == spec.input_name and inp.type == "tensor(float)" and produced.dtype == np.float32
        assert isinstance(inp.shape[0], str)  # the dynamic batch axis
        assert tuple(inp.shape[1:]) == produced.shape[1:]


def test_parity_error_when_weights_change_after_export(vision_export):
    model, path = vision_export
    changed = build_vision_model(model.spec)
    changed.load_state_dict(model.state_dict())
    with torch.no_grad():
        changed.heat[-1].bias.add_(0.01)
    with pytest.raises(ParityError) as info:
        check_parity(changed, path, torch.randn(2, 3, 64, 64))
    assert info.value.max_abs_diff == pytest.approx(0.01, rel=1e-3)


@pytest.mark.parametrize("kind", ["vision", "audio"])
def test_static_int8_model_is_quantised_close_to_float_and_keeps_metadata(
    kind, vision_export, audio_export, tmp_path
):
    _, path = vision_export if kind == "vision" else audio_export
    rng = np.random.default_rng(8)
    if kind == "vision":
        images = rng.integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
        calibration, x = [prepare_images(images[:8], TINY_VISION)], prepare_images(images[8:], TINY_VISION)
    else:
        waves = rng.normal(0, 0.1, (12, 8000)).astype(np.float32)
        calibration, x = [log_mel(waves[:8], 32000, TINY_AUDIO)], log_mel(waves[8:], 32000, TINY_AUDIO)
    q = quantize_static_int8(path, tmp_path / "int8.onnx", calibration)
    proto = onnx.load(str(q))
    ops = {node.op_type for node in proto.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # QDQ form: integer kernels in ONNX Runtime
    meta = {e.key: e.value for e in proto.metadata_props}
    assert meta[PRECISION_METADATA_KEY] == "int8"
    assert read_spec_metadata(q) == read_spec_metadata(path)
    name = onnx_session(path).get_inputs()[0].name
    refs = onnx_session(path).run(None, {name: x})
    gots = onnx_session(q).run(None, {name: x})
    for ref, got in zip(refs, gots, strict=True):  # inputs it was not calibrated on
        assert got.shape == ref.shape and np.isfinite(got).all()
        assert np.abs(got - ref).max() < 0.1 * (np.abs(ref).max() + 1)
    assert q.stat().st_size < path.stat().st_size
    assert (load_runtime(str(q)).precision, load_runtime(str(path)).precision) == ("int8", "fp32")


def test_static_int8_needs_calibration_inputs(vision_export, tmp_path):
    with pytest.raises(ValueError, match="calibration"):
        quantize_static_int8(vision_export[1], tmp_path / "int8.onnx", [])


def test_tensorrt_build_skips_cleanly_without_tensorrt_or_cuda(vision_export):
    _, path = vision_export
    result = build_tensorrt_engine(path)
    if importlib.util.find_spec("tensorrt") is None:
        assert (result.built, result.reason) == (False, "skipped: tensorrt not installed")
    elif not torch.cuda.is_available():
        assert (result.built, result.reason) == (False, "skipped: no CUDA device")
    else:
        assert result.built and result.engine_path is not None and result.engine_path.stat().st_size > 0
