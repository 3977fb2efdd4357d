"""Simulated datasets: held-out seeds differ from training, items equal the runtime preprocessing."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from model_contract.detections import decode_detections
from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig, log_mel, prepare_images
from model_contract.spec import ModelSpec
from producers.field_camera import Box
from training.data.simulated import (
    assert_disjoint,
    build_audio_datasets,
    build_vision_datasets,
    vision_dataset_from_frames,
)
from training.models.vision import vision_spec


@pytest.fixture(scope="module")
def audio_sets():
    return build_audio_datasets(6, 6, train_seed=3, heldout_seed=1_000_003, chunks_per_session=3)


def test_audio_train_and_heldout_use_disjoint_seeds(audio_sets):
    train, heldout = audio_sets
    assert train.seeds == (3,) and heldout.seeds == (1_000_003,)
    assert not torch.equal(train.features, heldout.features)
    with pytest.raises(ValueError, match="seed"):
        assert_disjoint(train, train)
    with pytest.raises(ValueError, match="seed"):
        build_audio_datasets(1, 1, train_seed=5, heldout_seed=5)
    with pytest.raises(ValueError, match="seed"):
        build_vision_datasets(1, 1, train_seed=5, heldout_seed=5)


def test_audio_items_are_the_runtime_log_mel_and_multi_hot_species(audio_sets):
    from training.data.simulated import simulate_audio

    _, heldout = audio_sets
    chunks = simulate_audio(6, 1_000_003, chunks_per_session=3)
    expected = log_mel(np.stack([c.waveform for c in chunks]), 32000, AudioPreprocessConfig())
    for i, chunk in enumerate(chunks):
        x, y = heldout[i]
        np.testing.assert_array_equal(x.numpy(), expected[i])
        assert {heldout.class_names[k] for k in np.flatnonzero(y.numpy())} == set(chunk.species)


def _fake_frames(n=2):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        boxes = (
            Box(0, "crop", "maize", 0.1, 0.2, 0.3, 0.5),
            Box(1, "weed", "thistle", 0.6 + 0.05 * i, 0.1, 0.8, 0.3),
        )
        frames.append(SimpleNamespace(image=rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), boxes=boxes))
    return frames


def test_vision_items_equal_prepare_images_and_carry_the_boxes():
    cfg = VisionPreprocessConfig(64, 64)
    frames = _fake_frames()
    dataset = vision_dataset_from_frames(frames, (0,), cfg)
    expected = prepare_images([f.image for f in frames], cfg)
    for i in range(len(frames)):
        x, maps = dataset[i]
        np.testing.assert_array_equal(x.numpy(), expected[i])
        assert x.dtype == torch.float32 and maps["heatmap"].shape == (2, 16, 16)
        det = decode_detections(
            maps["heatmap"][None].numpy(),
            maps["box_size"][None].numpy(),
            maps["center_offset"][None].numpy(),
            from_logits=False,
            score_threshold=0.5,
        )[0]
        gt = dataset.ground_truth(i)
        assert sorted(det.classes.tolist()) == sorted(gt.classes.tolist())


def test_vision_flips_move_boxes_with_the_pixels():
    cfg = VisionPreprocessConfig(64, 64)
    dataset = vision_dataset_from_frames(_fake_frames(1), (0,), cfg, flip=True)
    plain = vision_dataset_from_frames(_fake_frames(1), (0,), cfg)
    x0, _ = plain[0]
    seen = set()
    torch.manual_seed(0)
    for _ in range(24):
        x, maps = dataset[0]
        h = bool(torch.equal(x, x0.flip(-1)) or torch.equal(x, x0.flip(-1).flip(-2)))
        v = bool(torch.equal(x, x0.flip(-2)) or torch.equal(x, x0.flip(-1).flip(-2)))
        seen.add((h, v))
        det = decode_detections(
            maps["heatmap"][None].numpy(),
            maps["box_size"][None].numpy(),
            maps["center_offset"][None].numpy(),
            from_logits=False,
            score_threshold=0.5,
        )[0]
        crop = det.boxes[det.classes == 0][0]
        want = np.array([0.1, 0.2, 0.3, 0.5])
        if h:
            want[[0, 2]] = 1 - want[[2, 0]]
        if v:
            want[[1, 3]] = 1 - want[[3, 1]]
        np.testing.assert_allclose(crop, want, atol=0.02)
    assert len(seen) == 4  # all four flip combinations occurred


def test_spec_round_trips_through_json():
    spec = vision_spec()
    assert ModelSpec.from_json(spec.to_json()) == spec
