"""Export trained models: ONNX (one self-contained file), parity check, int8 quantisation, TensorRT.

- :func:`export_onnx`: ``torch.onnx.export`` (the torch.export-based exporter) with a dynamic batch
  axis; weights the exporter writes to a side ``.onnx.data`` file are folded back in, so the single
  ``.onnx`` file is the artifact. The model's :class:`~model_contract.spec.ModelSpec` (when it has
  one) is embedded as JSON in the ONNX metadata under :data:`SPEC_METADATA_KEY`.
- :func:`onnx_outputs`: the exported model run over a dataset (what the tasks score it on).
- :func:`check_parity`: max abs difference between PyTorch and ONNX Runtime (CPU) outputs on a batch;
  raises :class:`ParityError` above the tolerance.
- :func:`quantize_static_int8`: ONNX Runtime static int8 quantisation (QDQ, calibrated on training
  inputs), for CPU serving.
- :func:`build_tensorrt_engine`: a serialised TensorRT engine where TensorRT and a CUDA device exist;
  otherwise a :class:`TensorRTResult` saying why it was skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn
from torch.utils.data import Dataset

from model_contract.metadata import PRECISION_METADATA_KEY, SPEC_METADATA_KEY

DEFAULT_TOLERANCE = 1e-4


class ParityError(AssertionError):
    """ONNX Runtime outputs differ from PyTorch's by more than the tolerance."""

    def __init__(self, max_abs_diff: float, tolerance: float) -> None:
        super().__init__(f"ONNX/PyTorch max abs diff {max_abs_diff:.3g} > tolerance {tolerance:.3g}")
        self.max_abs_diff = max_abs_diff
        self.tolerance = tolerance


def _names(
    model: nn.Module, input_name: str | None, output_names: Sequence[str] | None
) -> tuple[str, list[str] | None]:
    spec = getattr(model, "spec", None)
    if input_name is None:
        input_name = spec.input_name if spec is not None else "input"
    if output_names is None and spec is not None:
        output_names = spec.output_names
    return input_name, list(output_names) if output_names is not None else None


def export_onnx(
    model: nn.Module,
    example_input: torch.Tensor,
    path: str | Path,
    *,
    input_name: str | None = None,
    output_names: Sequence[str] | None = None,
    opset_version: int | None = None,
) -> Path:
    """Export ``model`` (in eval mode) to one ``.onnx`` file with a dynamic batch axis; returns the path.

    Input/output names default to the model's ``spec`` (``input_name``, ``output_names``). The model's
    train/eval mode is restored afterwards.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    in_name, out_names = _names(model, input_name, output_names)
    was_training = model.training
    model.eval()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the exporter prints progress lines
            torch.onnx.export(
                model,
                (example_input,),
                str(path),
                input_names=[in_name],
                output_names=out_names,
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                opset_version=opset_version,
                external_data=True,
                dynamo=True,
            )
    finally:
        model.train(was_training)
    proto = onnx.load(str(path), load_external_data=True)
    _drop_initializer_value_info(proto)
    spec = getattr(model, "spec", None)
    if spec is not None:
        entry = proto.metadata_props.add()
        entry.key, entry.value = SPEC_METADATA_KEY, spec.to_json()
    onnx.save(proto, str(path), save_as_external_data=False)
    side = path.with_name(path.name + ".data")
    side.unlink(missing_ok=True)
    onnx.checker.check_model(str(path))
    return path


def _drop_initializer_value_info(proto: onnx.ModelProto) -> None:
    """Remove ``value_info`` entries that merely restate initializer shapes.

    The exporter writes them; tools that rewrite initializers (ONNX Runtime's quantiser transposes
    Gemm weights into MatMul ones) then fail shape inference on the stale copies.
    """
    weights = {init.name for init in proto.graph.initializer}
    kept = [vi for vi in proto.graph.value_info if vi.name not in weights]
    del proto.graph.value_info[:]
    proto.graph.value_info.extend(kept)


def read_spec_metadata(onnx_path: str | Path) -> dict | None:
    """The ModelSpec dict embedded by :func:`export_onnx` (None when there is none)."""
    proto = onnx.load(str(onnx_path), load_external_data=False)
    for entry in proto.metadata_props:
        if entry.key == SPEC_METADATA_KEY:
            return json.loads(entry.value)
    return None


def onnx_session(onnx_path: str | Path) -> ort.InferenceSession:
    """A CPU ONNX Runtime session (the reference for parity)."""
    return ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])


def onnx_outputs(onnx_path: str | Path, dataset: Dataset, batch: int = 32) -> list[list[np.ndarray]]:
    """The exported model's outputs over a dataset of ``(input, target)`` items, in order, per batch
    (CPU ONNX Runtime): what :func:`training.loop.predict` gives for the torch model."""
    session = onnx_session(onnx_path)
    name = session.get_inputs()[0].name
    count = len(dataset)  # type: ignore[arg-type]
    out = []
    for start in range(0, count, batch):
        xs = np.stack([dataset[i][0].numpy() for i in range(start, min(start + batch, count))])
        out.append(session.run(None, {name: xs}))
    return out


def check_parity(
    model: nn.Module, onnx_path: str | Path, batch: torch.Tensor, tolerance: float = DEFAULT_TOLERANCE
) -> float:
    """Max abs diff over all outputs of ``model`` (eval mode) vs ONNX Runtime on ``batch``.

    Raises :class:`ParityError` above ``tolerance``; use a held-out batch, not the export example.
    """
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            reference = model(batch)
    finally:
        model.train(was_training)
    if isinstance(reference, torch.Tensor):
        reference = (reference,)
    session = onnx_session(onnx_path)
    outputs = session.run(None, {session.get_inputs()[0].name: batch.detach().cpu().numpy()})
    if len(outputs) != len(reference):
        raise ParityError(float("inf"), tolerance)
    diff = 0.0
    for got, want in zip(outputs, reference, strict=True):
        want_np = want.detach().cpu().numpy()
        if got.shape != want_np.shape:
            raise ParityError(float("inf"), tolerance)
        diff = max(diff, float(np.max(np.abs(got - want_np))) if got.size else 0.0)
    if not diff <= tolerance:
        raise ParityError(diff, tolerance)
    return diff


def quantize_static_int8(
    onnx_path: str | Path, out_path: str | Path, calibration: Sequence[np.ndarray]
) -> Path:
    """Static int8 quantisation in QDQ form; returns ``out_path``.

    Weights become int8 per output channel; activations uint8 with ranges calibrated (min/max) on
    ``calibration``, a few batches of model inputs from the *training* data. Convolutions then run
    as integer kernels (VNNI on recent x86): about 2x faster than float32 on CPU here. The metadata
    of ``onnx_path`` (spec, runtime extras) is kept, and :data:`PRECISION_METADATA_KEY` says int8.
    """
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ValueError("static int8 quantisation needs at least one calibration batch")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    source = onnx.load(str(onnx_path))
    weights = {init.name for init in source.graph.initializer}
    input_name = next(i.name for i in source.graph.input if i.name not in weights)
    batches = iter([{input_name: np.ascontiguousarray(b, dtype=np.float32)} for b in calibration])

    class Reader(CalibrationDataReader):
        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(batches, None)

    prepared = out_path.with_suffix(".prepared.onnx")
    try:
        # constant folding and shape inference first, as ONNX Runtime recommends (the symbolic pass
        # cannot follow the dynamic batch axis through the upsampling; ONNX's own inference can)
        quant_pre_process(str(onnx_path), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out_path),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    finally:
        prepared.unlink(missing_ok=True)
    proto = onnx.load(str(out_path))
    kept = {e.key for e in proto.metadata_props}
    for entry in source.metadata_props:
        if entry.key not in kept:
            proto.metadata_props.add(key=entry.key, value=entry.value)
    proto.metadata_props.add(key=PRECISION_METADATA_KEY, value="int8")
    onnx.save(proto, str(out_path))
    return out_path


@dataclass(frozen=True)
class TensorRTResult:
    """Outcome of :func:`build_tensorrt_engine`: ``built`` with ``engine_path``, or ``reason`` skipped."""

    built: bool
    engine_path: Path | None
    reason: str


def build_tensorrt_engine(
    onnx_path: str | Path,
    engine_path: str | Path | None = None,
    *,
    fp16: bool = True,
    max_batch: int = 32,
    workspace_bytes: int = 1 << 30,
) -> TensorRTResult:
    """Build a serialised TensorRT engine (dynamic batch 1..``max_batch``) next to the ONNX file.

    Skips cleanly (``built=False``) when TensorRT is not installed or no CUDA device is present.
    """
    try:
        import tensorrt as trt  # type: ignore[import-not-found]
    except ImportError:
        return TensorRTResult(False, None, "skipped: tensorrt not installed")
    if not torch.cuda.is_available():
        return TensorRTResult(False, None, "skipped: no CUDA device")
    onnx_path = Path(onnx_path)
    engine_path = Path(engine_path) if engine_path is not None else onnx_path.with_suffix(".engine")
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # TensorRT 10: explicit batch is the only mode
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        return TensorRTResult(False, None, f"failed: ONNX parse errors: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if fp16 and builder.platform_has_fast_fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        rest = tuple(tensor.shape)[1:]
        profile.set_shape(tensor.name, (1, *rest), (max(1, max_batch // 2), *rest), (max_batch, *rest))
    config.add_optimization_profile(profile)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        return TensorRTResult(False, None, "failed: TensorRT could not build the engine")
    engine_path.write_bytes(bytes(serialized))
    return TensorRTResult(True, engine_path, "built")
