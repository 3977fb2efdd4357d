"""One V2 input tensor -> what the runtime takes: decoded media, or an already preprocessed batch.

- ``BYTES [N]``: encoded media (JPEG/PNG frames, WAV/FLAC/OGG chunks), raw with the binary-data
  extension or base64 strings in JSON; decoded with :mod:`fieldstream.media_decoding`, like the workers do.
- ``FP32 [N, ...]`` named like the model's input (``images``, ``log_mel``): preprocessed tensors.

Everything a client can get wrong is an ``InvalidInput`` (400) naming the element and the cause;
an element over the payload limit is a :class:`PayloadTooLarge` (413).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import numpy as np
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferInput

from fieldstream.contracts.errors import ContractError
from inference_workers.runtime.model import ModelRuntime
from model_contract.spec import DETECTION, ModelSpec

#: Most inputs one request may carry (bounds the memory a request can take).
MAX_BATCH = 64


class PayloadTooLarge(InvalidInput):
    """A request body or media element over ``FIELDSTREAM_MAX_PAYLOAD_BYTES`` (HTTP 413)."""


@dataclass(frozen=True)
class MediaBatch:
    items: list[Any]  # decoded: (H, W, 3) uint8 images or (waveform, sample_rate) pairs


@dataclass(frozen=True)
class TensorBatch:
    array: np.ndarray  # float32 [N, ...], the model's input shape


def expected_shape(spec: ModelSpec) -> tuple[int, ...]:
    """The model's input shape without the batch axis."""
    pre = spec.preprocess
    if spec.task == DETECTION:
        return (3, pre.input_height, pre.input_width)  # type: ignore[union-attr]
    return tuple(pre.input_shape)  # type: ignore[union-attr]


def check_tensor(tensor: InferInput, runtime: ModelRuntime) -> None:
    """Cheap checks of name, datatype and shape (before any data is touched)."""
    shape = list(tensor.shape)
    if tensor.datatype == "BYTES":
        if len(shape) != 1 or not 1 <= shape[0] <= MAX_BATCH:
            raise InvalidInput(
                f"input {tensor.name!r}: BYTES must have shape [N] with 1 <= N <= {MAX_BATCH}, got {shape}"
            )
    elif tensor.datatype == "FP32" and tensor.name == runtime.spec.input_name:
        expected = list(expected_shape(runtime.spec))
        if len(shape) != len(expected) + 1 or shape[1:] != expected or not 1 <= shape[0] <= MAX_BATCH:
            raise InvalidInput(
                f"input {tensor.name!r} must have shape [N, {', '.join(map(str, expected))}]"
                f" with 1 <= N <= {MAX_BATCH}, got {shape}"
            )
    else:
        raise InvalidInput(
            f"input {tensor.name!r} with datatype {tensor.datatype} is not supported: send BYTES"
            f" (encoded media) or FP32 named {runtime.spec.input_name!r} (preprocessed)"
        )


def read_tensor(tensor: InferInput, runtime: ModelRuntime, max_payload: int) -> MediaBatch | TensorBatch:
    """Decode the tensor's data (CPU work: call it off the event loop)."""
    check_tensor(tensor, runtime)
    try:
        array = tensor.as_numpy()
    except (ValueError, TypeError) as exc:  # data that does not match the declared shape or datatype
        raise InvalidInput(f"input {tensor.name!r}: data does not match shape {tensor.shape}: {exc}") from exc
    if tensor.datatype == "FP32":
        return TensorBatch(np.ascontiguousarray(array, dtype=np.float32))
    media = [_media_bytes(item, i, max_payload) for i, item in enumerate(np.ravel(array))]
    items = []
    for i, data in enumerate(media):
        try:
            items.append(runtime.decode(data))
        except ContractError as exc:
            raise InvalidInput(f"element {i}: {exc}") from exc
    return MediaBatch(items)


def _media_bytes(item: Any, index: int, max_payload: int) -> bytes:
    if isinstance(item, bytes):
        data = item
    elif isinstance(item, str):
        try:
            data = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput(f"element {index}: BYTES sent in JSON must be base64 ({exc})") from exc
    else:
        raise InvalidInput(f"element {index}: expected bytes or a base64 string, got {type(item).__name__}")
    if not data:
        raise InvalidInput(f"element {index}: payload is empty")
    if len(data) > max_payload:
        raise PayloadTooLarge(
            f"element {index}: payload of {len(data)} bytes exceeds the limit of {max_payload} bytes"
            " (FIELDSTREAM_MAX_PAYLOAD_BYTES)"
        )
    return data
