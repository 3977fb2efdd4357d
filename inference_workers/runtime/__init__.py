"""The model runtime shared by the Kafka workers and the KServe server: an ONNX Runtime session
(TensorRT > CUDA > CPU, whichever is present), the model contract's preprocessing
(:mod:`model_contract.preprocess`, the functions training used) and numpy post-processing. Torch is
never imported here."""

from inference_workers.runtime.loading import load_runtime
from inference_workers.runtime.model import ModelLoadError, ModelRuntime
from inference_workers.runtime.session import choose_providers

__all__ = ["ModelLoadError", "ModelRuntime", "choose_providers", "load_runtime"]
