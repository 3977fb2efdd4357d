"""What an exported ONNX file says about itself: the model contract written into its metadata.

Training writes it at export (:func:`add_metadata`); the workers and the KServe server read it back
(:func:`read_model_metadata`) to rebuild the preprocessing and the output decoding, so a model file
is all a runtime needs.

- ``fieldstream.model_spec``: the :class:`~model_contract.spec.ModelSpec` as JSON;
- ``fieldstream.runtime_extras`` (optional): score threshold, per-species thresholds, display names;
- ``fieldstream.precision`` (optional): ``"int8"`` on a statically quantised model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_contract.spec import ModelSpec

SPEC_METADATA_KEY = "fieldstream.model_spec"
EXTRAS_METADATA_KEY = "fieldstream.runtime_extras"
PRECISION_METADATA_KEY = "fieldstream.precision"


class MissingModelSpecError(ValueError):
    """The ONNX file carries no model spec: it was not exported by ``training.export.export_onnx``."""


@dataclass(frozen=True)
class ModelMetadata:
    spec: ModelSpec
    extras: dict[str, Any] = field(default_factory=dict)
    precision: str = "fp32"


def read_model_metadata(meta: Mapping[str, str]) -> ModelMetadata:
    """The contract from an ONNX file's ``custom_metadata_map`` (as ONNX Runtime gives it)."""
    if SPEC_METADATA_KEY not in meta:
        raise MissingModelSpecError(
            f"no {SPEC_METADATA_KEY} metadata: export it with training.export.export_onnx"
        )
    return ModelMetadata(
        ModelSpec.from_json(meta[SPEC_METADATA_KEY]),
        json.loads(meta.get(EXTRAS_METADATA_KEY, "{}")),
        meta.get(PRECISION_METADATA_KEY, "fp32"),
    )


def add_metadata(onnx_path: Path, key: str, value: str) -> None:
    """Set (or replace) one metadata entry of an ONNX file in place."""
    import onnx  # only the writers need it

    proto = onnx.load(str(onnx_path))
    for entry in list(proto.metadata_props):
        if entry.key == key:
            proto.metadata_props.remove(entry)
    proto.metadata_props.add(key=key, value=value)
    onnx.save(proto, str(onnx_path))
