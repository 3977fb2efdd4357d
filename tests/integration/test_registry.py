"""The MLflow registry against the real tracking server: register, promote, roll back, download,
and the lifecycle events on models.events.v1."""

from __future__ import annotations

import uuid

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from kafka_reading import consume_until
from onnx import TensorProto, helper

from fieldstream.contracts import decode_message
from fieldstream.topics import MODELS_EVENTS
from model_contract.registry import CHALLENGER, CHAMPION, ModelRegistry, RegistryError
from training.events import model_event, publish_model_event


def _scale_model(path, factor: float) -> None:
    """A one-node ONNX model y = x * factor with a dynamic batch axis."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [factor])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["y"])], "scale", [x], [y], [k])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _register(registry: ModelRegistry, name: str, factor: float, tmp_path) -> str:
    import mlflow

    path = tmp_path / f"m{factor}.onnx"
    _scale_model(path, factor)
    mlflow.set_tracking_uri(registry.tracking_uri)
    mlflow.set_experiment(f"test-{name}")
    with mlflow.start_run():
        info = registry.log_and_register(name, path, {"classes": ["a", "b"], "factor": factor})
    return info.version


def test_register_promote_rollback_and_download(settings, tmp_path):
    name = f"test-model-{uuid.uuid4().hex[:6]}"
    registry = ModelRegistry(settings.mlflow_tracking_uri)
    v1 = _register(registry, name, 2.0, tmp_path)
    assert registry.by_alias(name, CHALLENGER).version == v1
    assert registry.by_alias(name, CHAMPION) is None
    with pytest.raises(RegistryError, match="no version with alias 'champion'"):
        registry.download(name, CHAMPION)

    registry.promote(name, v1, "first")
    v2 = _register(registry, name, 3.0, tmp_path)
    assert registry.by_alias(name, CHAMPION).version == v1  # registering alone does not promote
    registry.promote(name, v2, "better")
    champion = registry.download(name, CHAMPION, tmp_path / "dl")
    assert champion.version == v2 and champion.card == {"classes": ["a", "b"], "factor": 3.0}
    out = ort.InferenceSession(str(champion.onnx_path)).run(None, {"x": np.ones((3, 2), np.float32)})[0]
    assert np.allclose(out, 3.0)

    back = registry.rollback(name, "v2 misbehaves")
    assert back.version == v1 and registry.by_alias(name, CHAMPION).version == v1
    with pytest.raises(RegistryError, match="no earlier champion"):
        registry.rollback(name, "again")
    listed = {v.version: v.aliases for v in registry.versions(name)}
    assert listed == {v1: (CHAMPION,), v2: (CHALLENGER,)}


def test_an_int8_variant_travels_with_its_version(settings, tmp_path):
    import mlflow

    name = f"test-model-{uuid.uuid4().hex[:6]}"
    registry = ModelRegistry(settings.mlflow_tracking_uri)
    _scale_model(tmp_path / "float.onnx", 2.0)
    _scale_model(tmp_path / "variant.onnx", 5.0)  # any file name: it is stored as model.int8.onnx
    mlflow.set_tracking_uri(registry.tracking_uri)
    mlflow.set_experiment(f"test-{name}")
    with mlflow.start_run():
        with_int8 = registry.log_and_register(
            name, tmp_path / "float.onnx", {}, int8_path=tmp_path / "variant.onnx"
        ).version
        without = registry.log_and_register(name, tmp_path / "float.onnx", {}).version
    got = registry.download(name, with_int8, tmp_path / "a")
    assert got.int8_path is not None and got.int8_path.name == "model.int8.onnx"
    x = {"x": np.ones((1, 2), np.float32)}
    assert np.allclose(ort.InferenceSession(str(got.onnx_path)).run(None, x)[0], 2.0)
    assert np.allclose(ort.InferenceSession(str(got.int8_path)).run(None, x)[0], 5.0)
    assert registry.download(name, without, tmp_path / "b").int8_path is None


def test_model_events_reach_the_topic(settings, consumer_factory):
    name = f"test-model-{uuid.uuid4().hex[:6]}"
    consumer = consumer_factory(MODELS_EVENTS)
    publish_model_event(settings, model_event("promoted", name, "7", alias=CHAMPION, reason="test"))
    got = consume_until(consumer, lambda ms: any(m.key() == name.encode() for m in ms))
    [msg] = [m for m in got if m.key() == name.encode()]
    event = decode_message(MODELS_EVENTS, msg.value())
    assert (event["event"], event["version"], event["alias"]) == ("promoted", "7", CHAMPION)
