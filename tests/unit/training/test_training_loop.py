"""The training loop: a few optimiser steps reduce the loss; evaluations score oracles perfectly."""

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig
from training.data.simulated import AudioDataset, VisionDataset
from training.loop import evaluate_audio, evaluate_vision, train_epoch
from training.models.audio import MultiLabelLoss, audio_spec, build_audio_model
from training.models.centernet import encode_targets
from training.models.vision import CenterNetLoss, build_vision_model, count_parameters, vision_spec

TINY_VISION = VisionPreprocessConfig(64, 64)
TINY_AUDIO = AudioPreprocessConfig(clip_seconds=0.5, n_mels=32, hop_length=256)


def _vision_data(n=4, seed=0, flip=False):
    rng = np.random.default_rng(seed)
    images = rng.integers(60, 120, (n, 64, 64, 3), dtype=np.uint8)
    boxes, classes = [], []
    for i in range(n):
        b = np.array([[0.1, 0.1, 0.4, 0.45], [0.55, 0.5, 0.9, 0.8]], np.float32)
        images[i, 6:29, 6:26] = (40, 200, 40)  # a green "crop" where the first box is
        images[i, 32:51, 35:58] = (200, 200, 40)  # a yellow "weed" where the second is
        boxes.append(b)
        classes.append(np.array([0, 1]))
    return VisionDataset(images, boxes, classes, TINY_VISION, 2, (seed,), flip=flip)


def _loss_after_steps(model, dataset, loss_fn, steps, lr):
    loader = [next(iter(DataLoader(dataset, batch_size=len(dataset))))] * steps
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    first = train_epoch(model, loader[:1], optimizer, loss_fn, "cpu")["loss"]
    train_epoch(model, loader, optimizer, loss_fn, "cpu")
    model.eval()
    with torch.no_grad():
        inputs, targets = loader[0]
        model.train()  # same BN mode as the first measurement
        last = float(loss_fn(model(inputs), targets)["loss"])
    return first, last


def test_sgd_steps_reduce_the_detector_loss():
    torch.manual_seed(0)
    model = build_vision_model(vision_spec(TINY_VISION, widths=[8, 16, 16, 32, 32], neck=16, head=16))
    first, last = _loss_after_steps(model, _vision_data(), CenterNetLoss(), steps=25, lr=0.01)
    assert last < 0.6 * first, (first, last)


def test_sgd_steps_reduce_the_species_loss():
    torch.manual_seed(0)
    model = build_audio_model(
        audio_spec(("a", "b", "c"), TINY_AUDIO, widths=[8, 8, 16, 16], hidden=16, dropout=0.0)
    )
    rng = np.random.default_rng(0)
    features = rng.normal(0, 1, (8, 1, 32, 63)).astype(np.float32)
    targets = (rng.random((8, 3)) < 0.4).astype(np.float32)
    features[:, :, 4:8] += 3 * targets[:, 0, None, None, None]  # class a lights up a band
    dataset = AudioDataset(features, targets, ("a", "b", "c"), (0,))
    first, last = _loss_after_steps(model, dataset, MultiLabelLoss(), steps=25, lr=0.05)
    assert last < 0.6 * first, (first, last)


def test_train_epoch_reports_means_and_respects_max_steps():
    model = build_audio_model(audio_spec(("a", "b"), TINY_AUDIO, widths=[4, 4, 4, 4], hidden=4))
    dataset = AudioDataset(
        np.zeros((6, 1, 32, 63), np.float32), np.zeros((6, 2), np.float32), ("a", "b"), (0,)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    out = train_epoch(model, DataLoader(dataset, batch_size=2), optimizer, MultiLabelLoss(), max_steps=2)
    assert out["steps"] == 2 and out["examples"] == 4 and out["loss"] > 0


class _Oracle(nn.Module):
    """Replays precomputed outputs batch by batch (stands in for a perfect model)."""

    def __init__(self, outputs):
        super().__init__()
        self.outputs = list(outputs)

    def forward(self, x):
        return self.outputs.pop(0)


def test_evaluate_vision_scores_a_perfect_detector_one():
    dataset = _vision_data(n=3)
    maps = [encode_targets(dataset.boxes[i], dataset.classes[i], 2, 16, 16) for i in range(3)]
    heat = torch.from_numpy(
        np.stack([np.where(m["heatmap"] == 1, 9.0, -9.0) for m in maps]).astype(np.float32)
    )
    size = torch.from_numpy(np.stack([m["box_size"] for m in maps]))
    offset = torch.from_numpy(np.stack([m["center_offset"] for m in maps]))
    metrics = evaluate_vision(
        _Oracle([(heat, size, offset)]), dataset, batch_size=3, class_names=("crop", "weed")
    )
    assert metrics["map_50"] == pytest.approx(1.0) and metrics["map_50_95"] > 0.9
    assert metrics["images"] == 3 and "ap_50/weed" in metrics


def test_evaluate_audio_scores_a_perfect_ranker_one_and_a_reversed_one_zero():
    targets = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
    dataset = AudioDataset(np.zeros((4, 1, 32, 63), np.float32), targets, ("a", "b"), (0,))
    logits = torch.from_numpy(targets * 8 - 4)
    good = evaluate_audio(_Oracle([logits]), dataset, batch_size=4, loss_fn=MultiLabelLoss())
    assert good["macro_roc_auc"] == 1.0 and good["padded_cmap"] == pytest.approx(1.0) and good["loss"] < 0.05
    bad = evaluate_audio(_Oracle([-logits]), dataset, batch_size=4)
    assert bad["macro_roc_auc"] == 0.0


def test_evaluation_refuses_augmented_datasets():
    with pytest.raises(ValueError, match="augmentation"):
        evaluate_vision(_Oracle([]), _vision_data(flip=True))


def test_default_models_are_within_the_parameter_budget():
    assert 300_000 <= count_parameters(build_vision_model()) <= 1_500_000
    species = tuple(f"s{i}" for i in range(12))
    assert 200_000 <= count_parameters(build_audio_model(audio_spec(species))) <= 1_000_000
