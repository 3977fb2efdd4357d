"""The REST side of Open Inference Protocol v2 where kserve 0.15 falls short for media.

kserve's own binary-extension decoder (``InferRequest.from_bytes``) turns every ``BYTES`` element
into a UTF-8 string, so a JPEG sent by tritonclient with ``binary_data=True`` fails with a 500; it
also copies FP32 tensors into Python lists. :class:`FieldStreamDataPlane` parses the binary body
itself and keeps each tensor's raw bytes (``InferInput.as_numpy`` reads them directly). A body
without the ``Inference-Header-Content-Length`` header is read as plain JSON, whatever its
content type. Model metadata also name the version being served.
Every malformed request is an ``InvalidInput`` (400), never a 500.
"""

from __future__ import annotations

from typing import Any

import orjson
from kserve.constants.constants import INFERENCE_CONTENT_LENGTH_HEADER
from kserve.errors import InvalidInput
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.infer_type import InferInput, InferRequest, RequestedOutput

HEADER = INFERENCE_CONTENT_LENGTH_HEADER.lower()
PLATFORM = "onnxruntime_onnx"


def binary_media_request(items: list[bytes], binary_outputs: bool = False) -> tuple[bytes, dict[str, str]]:
    """A client's request body and headers: one ``BYTES`` input ``media`` of encoded files with the
    binary-data extension (4-byte little-endian length + bytes each), as tritonclient sends it."""
    raw = b"".join(len(item).to_bytes(4, "little") + item for item in items)
    request: dict[str, Any] = {
        "inputs": [
            {
                "name": "media",
                "shape": [len(items)],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(raw)},
            }
        ]
    }
    if binary_outputs:
        request["parameters"] = {"binary_data_output": True}
    header = orjson.dumps(request)
    headers = {"Content-Type": "application/octet-stream", INFERENCE_CONTENT_LENGTH_HEADER: str(len(header))}
    return header + raw, headers


class FieldStreamDataPlane(DataPlane):
    def decode_inference_request(self, body: Any, headers: dict[str, str], model_name: str) -> InferRequest:
        if not isinstance(body, bytes):
            return super().decode_inference_request(body, headers, model_name)
        header = {k.lower(): v for k, v in headers.items()}.get(HEADER)
        try:
            json_length = len(body) if header is None else int(header)
        except ValueError as exc:
            raise InvalidInput(
                f"{INFERENCE_CONTENT_LENGTH_HEADER} must be an integer, got {header!r}"
            ) from exc
        return parse_request(body, json_length, model_name)

    async def model_metadata(self, model_name: str) -> dict[str, Any]:
        """kserve's metadata plus the version being served and the platform."""
        metadata = await super().model_metadata(model_name)
        runtime = getattr(self.get_model_from_registry(model_name), "runtime", None)
        if runtime is not None:
            metadata.update(versions=[runtime.version], platform=PLATFORM)
        return metadata


def parse_request(body: bytes, json_length: int, model_name: str) -> InferRequest:
    """A V2 REST body (JSON header, then the binary tensors in input order) -> ``InferRequest``."""
    if not 0 < json_length <= len(body):
        raise InvalidInput(
            f"{INFERENCE_CONTENT_LENGTH_HEADER} {json_length} does not fit a body of {len(body)} bytes"
        )
    try:
        request = orjson.loads(body[:json_length])
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request is not valid JSON: {exc}") from exc
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list):
        raise InvalidInput('request must be a JSON object with an "inputs" list')
    offset = json_length
    inputs = []
    for spec in request["inputs"]:
        tensor, offset = _input(spec, body, offset)
        inputs.append(tensor)
    if offset != len(body):
        raise InvalidInput(
            f"{len(body) - offset} bytes after the last binary input are not claimed by any input"
        )
    outputs = request.get("outputs")
    requested = None
    if outputs is not None:
        if not isinstance(outputs, list) or not all(isinstance(o, dict) and "name" in o for o in outputs):
            raise InvalidInput('"outputs" must be a list of objects with a "name"')
        requested = [RequestedOutput(name=o["name"], parameters=o.get("parameters")) for o in outputs]
    parameters = request.get("parameters")
    return InferRequest(
        model_name=model_name,
        infer_inputs=inputs,
        request_id=request.get("id"),
        parameters=parameters if isinstance(parameters, dict) else None,
        request_outputs=requested,
    )


def _input(spec: Any, body: bytes, offset: int) -> tuple[InferInput, int]:
    if not isinstance(spec, dict) or not {"name", "shape", "datatype"} <= spec.keys():
        raise InvalidInput('each input needs "name", "shape" and "datatype"')
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise InvalidInput(
            f"input {spec['name']!r}: shape must be a list of non-negative integers, got {shape!r}"
        )
    parameters = spec.get("parameters") or {}
    tensor = InferInput(
        name=str(spec["name"]), shape=shape, datatype=str(spec["datatype"]), parameters=parameters
    )
    if spec.get("data") is not None:
        tensor.data = spec["data"]
        return tensor, offset
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if not isinstance(size, int) or size < 0:
        raise InvalidInput(f'input {spec["name"]!r} has neither "data" nor a binary_data_size parameter')
    if offset + size > len(body):
        raise InvalidInput(f"input {spec['name']!r}: binary_data_size {size} runs past the end of the body")
    tensor._raw_data = body[offset : offset + size]
    return tensor, offset + size
