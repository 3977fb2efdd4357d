"""The training tasks: one per modality, looked up by its name; torch and ONNX models scored alike."""

import numpy as np
import pytest
import torch

from fieldstream.modality import MODALITIES
from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig
from training.config import MODEL_NAMES, TASKS, TrainConfig
from training.data.simulated import AudioDataset, VisionDataset
from training.export import export_onnx, onnx_outputs
from training.gate import AUDIO_GATE, VISION_GATE
from training.loop import evaluate_audio, evaluate_vision, predict
from training.models.audio import MultiLabelLoss, SpeciesCNN, audio_spec
from training.models.centernet import encode_targets
from training.models.vision import CenterNetDetector, CenterNetLoss
from training.tasks import TASKS as TASK_TYPES
from training.tasks import AudioTask, VisionTask, make_task

TINY_AUDIO = AudioPreprocessConfig(clip_seconds=0.5, n_mels=32, hop_length=256)
TARGETS = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], np.float32)


def _audio_task():
    task = make_task(TrainConfig("audio", class_names=("a", "b", "c")))
    task.spec = audio_spec(("a", "b", "c"), TINY_AUDIO, widths=[8, 8, 16, 16], hidden=16)
    return task


def _audio_data():
    features = np.random.default_rng(0).normal(0, 1, (len(TARGETS), 1, 32, 63)).astype(np.float32)
    return AudioDataset(features, TARGETS, ("a", "b", "c"), (0,))


def test_every_modality_has_one_task_looked_up_by_its_name():
    assert set(TASK_TYPES) == set(MODALITIES) == set(TASKS) == set(MODEL_NAMES)
    for name, modality in MODALITIES.items():
        task = make_task(TrainConfig(name))
        assert type(task) is TASK_TYPES[name] and task.modality is modality and task.name == name
        assert task.model_name == modality.model_name == MODEL_NAMES[name]
    vision, audio = make_task(TrainConfig("vision")), make_task(TrainConfig("audio", gate_floor=0.5))
    assert isinstance(vision, VisionTask) and isinstance(audio, AudioTask)
    assert vision.gate == VISION_GATE and audio.gate.floor == 0.5 and audio.gate.metric == AUDIO_GATE.metric
    assert isinstance(vision.build_model(), CenterNetDetector) and isinstance(vision.loss(), CenterNetLoss)
    assert isinstance(audio.build_model(), SpeciesCNN) and isinstance(audio.loss(), MultiLabelLoss)


def test_vision_spec_takes_the_configs_classes_and_input_size():
    task = make_task(TrainConfig("vision", class_names=("a", "b", "c"), input_size=(128, 96)))
    pre = task.spec.preprocess
    assert isinstance(pre, VisionPreprocessConfig) and (pre.input_width, pre.input_height) == (128, 96)
    assert task.spec.class_names == ("a", "b", "c")


def test_vision_score_is_the_runtime_decoded_map_under_the_gate_names():
    pre = VisionPreprocessConfig(64, 64)
    boxes = [np.array([[0.1, 0.1, 0.4, 0.45], [0.55, 0.5, 0.9, 0.8]], np.float32)] * 3
    classes = [np.array([0, 1])] * 3
    dataset = VisionDataset(np.zeros((3, 64, 64, 3), np.uint8), boxes, classes, pre, 2, (0,))
    maps = [encode_targets(boxes[i], classes[i], 2, 16, 16) for i in range(3)]
    heat = np.stack([np.where(m["heatmap"] == 1, 9.0, -9.0) for m in maps]).astype(np.float32)
    size = np.stack([m["box_size"] for m in maps])
    offset = np.stack([m["center_offset"] for m in maps])
    task = make_task(TrainConfig("vision"))
    score = task.score([[heat[:2], size[:2], offset[:2]], [heat[2:], size[2:], offset[2:]]], dataset)
    assert set(score) == {"map50", "map50_95", "ap_50/crop", "ap_50_95/crop", "ap_50/weed", "ap_50_95/weed"}
    assert score["map50"] == pytest.approx(1.0)

    class Oracle(torch.nn.Module):
        def forward(self, x):
            return tuple(torch.from_numpy(a) for a in (heat, size, offset))

    reference = evaluate_vision(Oracle(), dataset, batch_size=3, class_names=("crop", "weed"))
    assert score["map50"] == reference["map_50"] and score["ap_50/weed"] == reference["ap_50/weed"]


def test_torch_and_onnx_outputs_go_through_the_same_task_scoring(tmp_path):
    torch.manual_seed(0)
    task, dataset = _audio_task(), _audio_data()
    model = task.build_model().eval()
    path = export_onnx(model, dataset[0][0][None], tmp_path / "species.onnx")
    from_torch, from_onnx = predict(model, dataset, batch_size=2), onnx_outputs(path, dataset, batch=2)
    assert [[a.shape for a in b] for b in from_torch] == [[a.shape for a in b] for b in from_onnx]
    np.testing.assert_allclose(np.concatenate(from_torch[0]), np.concatenate(from_onnx[0]), atol=1e-4)
    assert task.evaluate(model, dataset, "cpu") == task.score(from_torch, dataset)
    assert task.evaluate_onnx(str(path), dataset) == task.score(from_onnx, dataset)
    reference = evaluate_audio(model, dataset)
    assert task.evaluate(model, dataset, "cpu") == {k: reference[k] for k in ("macro_roc_auc", "padded_cmap")}


def test_audio_score_ranks_perfect_logits_one():
    task, dataset = _audio_task(), _audio_data()
    logits = TARGETS * 8 - 4
    score = task.score([[logits[:3]], [logits[3:]]], dataset)
    assert score == {"macro_roc_auc": 1.0, "padded_cmap": pytest.approx(1.0)}
