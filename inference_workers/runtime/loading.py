"""Load a model version into a runtime: by MLflow reference (``models:/NAME@ALIAS``,
``models:/NAME/VERSION``) or by a local ``.onnx`` path.

The ONNX file carries what the runtime needs in its metadata, written at export
(:mod:`model_contract.metadata`): the model spec (class names, preprocessing config, I/O names) and
optionally the runtime extras (score threshold, per-species thresholds, display names).

A registered version may ship a static int8 variant beside the float model (see
:func:`training.export.quantize_static_int8`): ``precision`` picks which runs.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from inference_workers.runtime.audio import AudioRuntime
from inference_workers.runtime.model import ModelLoadError, ModelRuntime
from inference_workers.runtime.session import choose_providers, create_session
from inference_workers.runtime.vision import VisionRuntime
from model_contract.metadata import MissingModelSpecError, read_model_metadata
from model_contract.spec import DETECTION

PRECISIONS = ("auto", "fp32", "int8")


def parse_model_ref(ref: str) -> tuple[str, str]:
    """``models:/NAME@ALIAS`` -> (NAME, ALIAS); ``models:/NAME/3`` -> (NAME, "3")."""
    body = ref.removeprefix("models:/")
    if "@" in body:
        name, alias = body.split("@", 1)
        return name, alias
    if "/" in body:
        name, version = body.rsplit("/", 1)
        return name, version
    raise ModelLoadError(
        f"not a model reference: {ref!r} (expected models:/NAME@ALIAS or models:/NAME/VERSION)"
    )


def load_runtime(
    ref: str, tracking_uri: str | None = None, download_dir: Path | None = None, precision: str = "auto"
) -> ModelRuntime:
    """``precision`` (registry references): ``auto`` runs a version's int8 variant when it ships one
    and the session would run on CPU (GPUs run the float model; TensorRT builds its own fp16),
    ``int8`` whenever it ships one, ``fp32`` never. A ``.onnx`` path runs as it is.

    A registry version is downloaded into a temporary folder under ``download_dir`` (the system's
    temporary folder when None) that is removed once the session holds the model: a long-running
    worker that swaps versions leaves nothing behind."""
    if precision not in PRECISIONS:
        raise ModelLoadError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if ref.startswith("models:/"):
        if not tracking_uri:
            raise ModelLoadError("loading from the MLflow registry needs a tracking URI")
        from model_contract.registry import ModelRegistry  # mlflow only when the registry is used

        name, which = parse_model_ref(ref)
        if download_dir is not None:
            download_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=download_dir) as dst:
            downloaded = ModelRegistry(tracking_uri).download(name, which, Path(dst))
            int8 = downloaded.int8_path
            on_cpu = choose_providers()[0] == "CPUExecutionProvider"
            wants_int8 = precision == "int8" or (precision == "auto" and on_cpu)
            path = int8 if int8 is not None and wants_int8 else downloaded.onnx_path
            return runtime_from_file(path, name, downloaded.version)
    path = Path(ref)
    if not path.exists():
        raise ModelLoadError(f"model file {path} does not exist")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return runtime_from_file(path, None, f"file-{digest}")


def runtime_from_file(path: Path, name: str | None, version: str) -> ModelRuntime:
    session, provider = create_session(str(path))
    try:
        meta = read_model_metadata(session.get_modelmeta().custom_metadata_map)
    except MissingModelSpecError as exc:
        raise ModelLoadError(f"{path}: {exc}") from exc
    spec = meta.spec
    cls = VisionRuntime if spec.task == DETECTION else AudioRuntime
    return cls(name or spec.name, version, spec, session, provider, meta.extras, meta.precision)
