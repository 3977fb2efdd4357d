"""The model server's request handling without a server: the binary-extension parser (kserve 0.15's
own turns JPEG bytes into a 500), tensor checks, the body limit and readiness before a version."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from kserve.errors import InvalidInput, ModelNotReady
from kserve.protocol.infer_type import InferInput, InferRequest

from fieldstream.media_decoding import decode_image
from inference_workers.serving.inputs import MediaBatch, PayloadTooLarge, TensorBatch, read_tensor
from inference_workers.serving.limits import BodyLimit, max_body_bytes
from inference_workers.serving.model import FieldStreamModel
from inference_workers.serving.protocol import binary_media_request, parse_request
from model_contract.preprocess import VisionPreprocessConfig
from model_contract.spec import DETECTION, ModelSpec
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, encode_jpeg

SPEC = ModelSpec(
    name="vision-detector",
    task=DETECTION,
    class_names=("crop", "weed"),
    preprocess=VisionPreprocessConfig(input_width=32, input_height=24),
    input_name="images",
    output_names=("heat", "size", "offset"),
)


@dataclass
class FakeRuntime:
    """What FieldStreamModel uses of a runtime; 'detects' one box per input."""

    version: str = "7"
    spec: ModelSpec = SPEC
    provider: str = "CPUExecutionProvider"
    precision: str = "fp32"
    seen: list[Any] = field(default_factory=list)

    def predict(self, inputs: list[Any]) -> Any:
        self.seen.extend(inputs)
        items = [[{"class_id": 1, "class_name": "weed", "score": 0.9, "xyxy": [0, 0, 1, 1]}] for _ in inputs]
        return type("P", (), {"items": items, "stage_ms": {"infer": 1.0}})()

    def decode(self, data: bytes) -> np.ndarray:
        return decode_image(data)  # full size: the real runtime decodes to the model size

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        return [tensor]

    def postprocess(self, outputs: list[np.ndarray], count: int) -> list[list[dict]]:
        return [[{"mean": float(outputs[0][i].mean())}] for i in range(count)]


@pytest.fixture(scope="module")
def jpeg() -> bytes:
    frame = next(
        iter(FieldCameraSimulator(FieldCameraConfig(width=160, height=120, ground_width_m=1.0)).frames(1))
    )
    return encode_jpeg(frame.image, 85)


def binary_body(items: list[bytes]) -> tuple[bytes, int]:
    body, headers = binary_media_request(items, binary_outputs=True)
    return body, int(headers["inference-header-content-length"])


# ---- the binary extension ---------------------------------------------------------------------------
def test_binary_bytes_stay_bytes_where_kserve_015_fails(jpeg):
    body, json_length = binary_body([jpeg, jpeg[:100]])
    with pytest.raises(Exception, match="UTF-8"):  # kserve's own decoder (a 500 over HTTP)
        InferRequest.from_bytes(body, json_length, "m")
    request = parse_request(body, json_length, "m")
    assert list(request.inputs[0].as_numpy()) == [jpeg, jpeg[:100]]
    assert request.use_binary_outputs


def test_fp32_binary_is_read_without_a_copy_through_python_lists():
    tensor = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    header = json.dumps(
        {
            "inputs": [
                {"name": "x", "shape": [1, 2, 3], "datatype": "FP32", "parameters": {"binary_data_size": 24}}
            ]
        }
    ).encode()
    request = parse_request(header + tensor.tobytes(), len(header), "m")
    assert request.inputs[0].data is None
    assert np.array_equal(request.inputs[0].as_numpy(), tensor)


@pytest.mark.parametrize(
    ("body", "json_length", "message"),
    [
        (b'{"inputs": []}', 500, "does not fit a body"),
        (b"{not json", None, "not valid JSON"),
        (b'{"inputs": 3}', None, '"inputs" list'),
        (b'{"inputs": [{"name": "m"}]}', None, '"name", "shape" and "datatype"'),
        (
            b'{"inputs": [{"name": "m", "shape": [-1], "datatype": "BYTES", "data": []}]}',
            None,
            "non-negative",
        ),
        (b'{"inputs": [{"name": "m", "shape": [1], "datatype": "BYTES"}]}', None, "neither"),
    ],
)
def test_malformed_binary_requests_are_invalid_input(body, json_length, message):
    with pytest.raises(InvalidInput, match=message):
        parse_request(body, json_length or len(body), "m")


def test_binary_data_past_the_body_is_invalid_input(jpeg):
    body, json_length = binary_body([jpeg])
    with pytest.raises(InvalidInput, match="runs past the end"):
        parse_request(body[:-10], json_length, "m")
    with pytest.raises(InvalidInput, match="not claimed by any input"):
        parse_request(body + b"extra", json_length, "m")


# ---- tensors -------------------------------------------------------------------------------------
def media_tensor(data: list[Any], shape: list[int] | None = None) -> InferInput:
    return InferInput("media", shape or [len(data)], "BYTES", data=data)


def test_media_is_decoded_from_base64_and_raw_bytes(jpeg):
    runtime = FakeRuntime()
    batch = read_tensor(media_tensor([base64.b64encode(jpeg).decode()]), runtime, 10**6)  # type: ignore[arg-type]
    assert isinstance(batch, MediaBatch) and batch.items[0].shape == (120, 160, 3)
    assert np.array_equal(read_tensor(media_tensor([jpeg]), runtime, 10**6).items[0], batch.items[0])  # type: ignore[union-attr, arg-type]


@pytest.mark.parametrize(
    ("tensor", "error", "message"),
    [
        (
            InferInput("images", [1, 3, 2, 2], "FP32", data=[0.0] * 12),
            InvalidInput,
            "must have shape [N, 3, 24, 32]",
        ),
        (InferInput("media", [1], "INT32", data=[1]), InvalidInput, "datatype INT32 is not supported"),
        (InferInput("media", [1, 1], "BYTES", data=["aGk="]), InvalidInput, "shape [N]"),
        (media_tensor(["aGk="], [2]), InvalidInput, "does not match shape [2]"),
        (media_tensor(["%%%"]), InvalidInput, "must be base64"),
        (media_tensor([""]), InvalidInput, "payload is empty"),
        (media_tensor([base64.b64encode(b"not an image").decode()]), InvalidInput, "could not be decoded"),
        (media_tensor([b"x" * 101]), PayloadTooLarge, "exceeds the limit of 100 bytes"),
        (media_tensor(["aGk="] * 65), InvalidInput, "N <= 64"),
    ],
)
def test_bad_tensors_say_what_is_wrong(tensor, error, message):
    with pytest.raises(error) as info:
        read_tensor(tensor, FakeRuntime(), 100)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_a_preprocessed_tensor_goes_straight_to_the_model():
    array = np.ones((2, 3, 24, 32), np.float32)
    batch = read_tensor(
        InferInput("images", list(array.shape), "FP32", data=array.ravel().tolist()), FakeRuntime(), 1
    )  # type: ignore[arg-type]
    assert isinstance(batch, TensorBatch) and batch.array.shape == (2, 3, 24, 32)


# ---- the model -----------------------------------------------------------------------------------
def test_a_model_without_a_version_stays_not_ready_until_one_is_swapped_in(jpeg):
    model = FieldStreamModel("vision-detector", lambda: None, 10**6)
    model.load()
    model.start()  # kserve's default start() would mark it ready
    assert not model.ready and not asyncio.run(model.healthy())
    request = InferRequest("vision-detector", [media_tensor([jpeg])])
    with pytest.raises(ModelNotReady):
        asyncio.run(model.predict(request))
    generation = model.generation
    assert model.swap(FakeRuntime(version="3"))  # type: ignore[arg-type]
    assert not model.swap(FakeRuntime(version="2"), if_generation=generation)  # type: ignore[arg-type]
    response = asyncio.run(model.predict(request))
    assert model.ready and response.model_version == "3"
    assert json.loads(response.outputs[0].data[0])[0]["class_name"] == "weed"
    assert isinstance(response.id, str) and response.id


# ---- the body limit ------------------------------------------------------------------------------
async def _call(middleware: BodyLimit, chunks: list[bytes], declared: bool) -> tuple[int, bytes, bytes]:
    sent: list[dict] = []
    received = bytearray()
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]
    queue = iter(messages)

    async def receive() -> dict:
        return next(queue, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            received.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware.app = app
    size = sum(len(c) for c in chunks)
    headers = [(b"content-length", str(size).encode())] if declared else []
    scope = {"type": "http", "method": "POST", "path": "/v2/models/vision-detector/infer", "headers": headers}
    await middleware(scope, receive, send)
    return sent[0]["status"], sent[1]["body"], bytes(received)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_bodies_over_the_limit_get_413_and_others_pass_whole(declared):
    rejected: list[str] = []
    limit = BodyLimit(None, limit=1000, on_reject=rejected.append)  # type: ignore[arg-type]
    status, _body, received = asyncio.run(_call(limit, [b"a" * 600, b"b" * 400], declared))
    assert status == 200 and received == b"a" * 600 + b"b" * 400
    status, body, received = asyncio.run(_call(limit, [b"a" * 600, b"b" * 401, b"c" * 10], declared))
    assert status == 413 and received == b""
    assert "exceeds the limit of 1000 bytes" in json.loads(body)["error"]
    assert rejected == ["vision-detector"]


def test_the_body_limit_leaves_room_for_one_base64_element():
    assert max_body_bytes(3 * 1024) >= len(base64.b64encode(b"x" * 3 * 1024)) + 1024


# ---- following the champion ----------------------------------------------------------------------
def test_the_follower_catches_up_with_the_registrys_champion(monkeypatch):
    from fieldstream.settings import load_settings
    from inference_workers.serving.follow import ChampionFollower
    from model_contract.registry import ModelRegistry, ModelVersionInfo

    champion: list[str | Exception] = ["4"]

    def by_alias(self: ModelRegistry, name: str, alias: str) -> ModelVersionInfo:
        if isinstance(champion[0], Exception):
            raise champion[0]
        return ModelVersionInfo(name, champion[0], None, (alias,))

    monkeypatch.setattr(ModelRegistry, "by_alias", by_alias)
    loaded: list[str] = []

    def load_version(version: str) -> FakeRuntime:
        loaded.append(version)
        return FakeRuntime(version=version)

    model = FieldStreamModel("vision-detector", lambda: None, 10**6)
    follower = ChampionFollower(load_settings({}), model, load_version)  # type: ignore[arg-type]
    assert follower.reconcile() and model.runtime.version == "4"  # type: ignore[union-attr]
    assert follower.reconcile() and loaded == ["4"]  # nothing to do
    champion[0] = ConnectionError("mlflow down")
    assert not follower.reconcile() and model.runtime.version == "4"  # type: ignore[union-attr]
    champion[0] = "5"
    assert follower.reconcile() and model.runtime.version == "5" and loaded == ["4", "5"]  # type: ignore[union-attr]
