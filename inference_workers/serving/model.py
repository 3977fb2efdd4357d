"""``FieldStreamModel``: a ``kserve.Model`` over the shared runtime (~the KServe sklearn server's size).

Inputs (Open Inference Protocol v2), one tensor per request (see :mod:`.inputs`):

- ``BYTES`` ``[N]``: encoded media, JPEG/PNG frames or WAV/FLAC/OGG chunks. Raw bytes with the
  binary-data extension (tritonclient ``binary_data=True``), or base64 strings in plain JSON.
- ``FP32`` ``[N, ...]`` named like the model's input (``images`` or ``log_mel``): tensors already
  preprocessed with :mod:`model_contract.preprocess`.

Output ``detections`` (``BYTES`` ``[N]``): one JSON document per input, the same boxes/species list a
worker puts into its detection message; the response's ``model_version`` names the version that
made them. Bad requests raise ``InvalidInput`` (400) or ``PayloadTooLarge`` (413). Until a version is
loaded the model is not ready (503); :meth:`swap` replaces the version between two requests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from kserve import Model
from kserve.errors import InvalidInput, ModelNotReady
from kserve.protocol.infer_type import InferInput, InferOutput, InferRequest, InferResponse

from inference_workers.runtime.model import ModelRuntime
from inference_workers.serving.inputs import (
    MediaBatch,
    PayloadTooLarge,
    check_tensor,
    expected_shape,
    read_tensor,
)
from inference_workers.serving.metrics import ServingMetrics

log = logging.getLogger("fieldstream.serving")
OUTPUT = "detections"
MEDIA_INPUT = "media"


class FieldStreamModel(Model):
    def __init__(
        self,
        name: str,
        load: Callable[[], ModelRuntime | None],
        max_payload_bytes: int,
        metrics: ServingMetrics | None = None,
    ) -> None:
        super().__init__(name)
        self._load = load
        self.runtime: ModelRuntime | None = None
        self.max_payload_bytes = max_payload_bytes
        self.metrics = metrics
        self.generation = 0  # bumped by every swap
        self._lock = threading.Lock()

    # ---- lifecycle ---------------------------------------------------------------------------
    def load(self) -> bool:
        runtime = self._load()
        if runtime is not None:
            self.swap(runtime)
        return self.ready

    def start(self) -> None:
        """kserve's default marks every model ready at server start; ready means a version is loaded."""
        self.ready = self.runtime is not None

    async def healthy(self) -> bool:
        return self.runtime is not None

    def swap(self, runtime: ModelRuntime, if_generation: int | None = None) -> bool:
        """Serve ``runtime`` from the next request on (requests in flight finish on the old one).

        With ``if_generation``, only when no other swap happened since that generation was read.
        """
        with self._lock:
            if if_generation is not None and if_generation != self.generation:
                return False
            previous = self.runtime.version if self.runtime else None
            self.runtime, self.ready = runtime, True
            self.generation += 1
        if self.metrics:
            self.metrics.track_swap(self.name)
        log.info(
            "serving model version",
            extra={
                "model": self.name,
                "version": runtime.version,
                "previous": previous,
                "provider": runtime.provider,
                "precision": runtime.precision,
            },
        )
        return True

    def _current(self) -> ModelRuntime:
        runtime = self.runtime
        if runtime is None:
            raise ModelNotReady(self.name, "No champion version is loaded yet; it is served once promoted.")
        return runtime

    # ---- metadata ----------------------------------------------------------------------------
    def get_input_types(self) -> list[dict[str, Any]]:
        rt = self.runtime
        if rt is None:
            return []
        return [
            {"name": MEDIA_INPUT, "datatype": "BYTES", "shape": [-1]},
            {"name": rt.spec.input_name, "datatype": "FP32", "shape": [-1, *expected_shape(rt.spec)]},
        ]

    def get_output_types(self) -> list[dict[str, Any]]:
        return [{"name": OUTPUT, "datatype": "BYTES", "shape": [-1]}]

    # ---- inference ---------------------------------------------------------------------------
    async def predict(
        self, payload: InferRequest, headers: dict[str, str] | None = None, response_headers: Any = None
    ) -> InferResponse:
        runtime = self._current()  # one version for the whole request
        try:
            if not isinstance(payload, InferRequest) or len(payload.inputs) != 1:
                raise InvalidInput("send exactly one input tensor (Open Inference Protocol v2)")
            tensor = payload.inputs[0]
            check_tensor(tensor, runtime)
            loop = asyncio.get_running_loop()
            items, stage_ms = await loop.run_in_executor(None, self._infer, runtime, tensor)
        except InvalidInput as exc:
            if self.metrics:
                self.metrics.track_rejected(
                    self.name, "too_large" if isinstance(exc, PayloadTooLarge) else "invalid"
                )
            raise
        if self.metrics:
            self.metrics.track_request(self.name, runtime.version, len(items), stage_ms)
        out = InferOutput(OUTPUT, [len(items)], "BYTES", [json.dumps(i) for i in items])
        return InferResponse(
            response_id=str(payload.id or uuid.uuid4()),
            model_name=self.name,
            infer_outputs=[out],
            model_version=runtime.version,
            use_binary_outputs=payload.use_binary_outputs,
            requested_outputs=payload.request_outputs,
        )

    def _infer(self, runtime: ModelRuntime, tensor: InferInput) -> tuple[list[Any], dict[str, float]]:
        """Decode + run, in a worker thread (ONNX Runtime releases the GIL while it runs)."""
        t0 = time.perf_counter()
        batch = read_tensor(tensor, runtime, self.max_payload_bytes)
        decode_ms = (time.perf_counter() - t0) * 1e3
        if isinstance(batch, MediaBatch):
            prediction = runtime.predict(batch.items)
            return prediction.items, {"decode": decode_ms, **prediction.stage_ms}
        t1 = time.perf_counter()
        outputs = runtime.run(batch.array)
        t2 = time.perf_counter()
        items = runtime.postprocess(outputs, batch.array.shape[0])
        t3 = time.perf_counter()
        return items, {"decode": decode_ms, "infer": (t2 - t1) * 1e3, "postprocess": (t3 - t2) * 1e3}
