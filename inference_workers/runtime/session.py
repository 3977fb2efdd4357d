"""ONNX Runtime sessions with the best execution provider this machine has."""

from __future__ import annotations

import logging

import onnxruntime as ort

log = logging.getLogger("fieldstream.runtime")
PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


def choose_providers(available: list[str] | None = None) -> list[str]:
    """The providers to ask for, best first: TensorRT > CUDA > CPU, among those installed."""
    have = set(ort.get_available_providers() if available is None else available)
    return [p for p in PREFERENCE if p in have] or ["CPUExecutionProvider"]


def create_session(onnx_path: str, intra_op_threads: int = 0) -> tuple[ort.InferenceSession, str]:
    """A session on the best provider; returns it with the provider actually in use (logged)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if intra_op_threads:
        options.intra_op_num_threads = intra_op_threads
    session = ort.InferenceSession(onnx_path, sess_options=options, providers=choose_providers())
    provider = session.get_providers()[0]
    log.info("onnx session ready", extra={"model_path": onnx_path, "provider": provider})
    return session, provider
