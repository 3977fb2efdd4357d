"""In-memory torch datasets rendered straight from the simulators (no Kafka, no store).

Every dataset remembers the simulator seeds it came from; training and held-out data must come from
disjoint seeds (:func:`assert_disjoint`; the ``build_*_datasets`` helpers enforce it), so a held-out
score never measures memorised scenes. By convention held-out seeds start at
:data:`HELDOUT_SEED_BASE`.

- :class:`AudioDataset`: log-mel features computed once with :func:`model_contract.preprocess.log_mel`,
  multi-hot species targets; items ``(features (1, n_mels, T), target (K,))``.
- :class:`VisionDataset`: frames resized once to the model size (uint8) with
  :func:`model_contract.preprocess.resize_images`; items ``(image (3, H, W), target maps)`` where the
  maps come from :func:`training.models.centernet.encode_targets`, after optional random flips
  (a top-down view has no preferred left/right or up/down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import torch
from torch.utils.data import Dataset

from model_contract.preprocess import (
    AudioPreprocessConfig,
    VisionPreprocessConfig,
    log_mel,
    normalise_images,
    resize_images,
)
from producers.field_camera import CLASS_NAMES, FieldCameraConfig, SimulatedFrame, render_dataset
from producers.soundscape import BASE_SPECIES_IDS, SimulatedChunk, SoundscapeConfig, SoundscapeSimulator
from training.metrics.detection import ImageGroundTruth
from training.models.centernet import encode_targets

HELDOUT_SEED_BASE = 1_000_000
VISION_FPS = 5.0  # at 6 m/s a 1.2 m-deep frame every 1.2 m: consecutive frames do not overlap


def assert_disjoint(train: AudioDataset | VisionDataset, heldout: AudioDataset | VisionDataset) -> None:
    """Raise ValueError when two datasets share a simulator seed."""
    shared = set(train.seeds) & set(heldout.seeds)
    if shared:
        raise ValueError(f"held-out data must use other seeds than training; shared: {sorted(shared)}")


class AudioDataset(Dataset):
    """Log-mel features (N, 1, n_mels, T) and multi-hot targets (N, K), both float32."""

    def __init__(
        self,
        features: np.ndarray,
        targets: np.ndarray,
        class_names: Sequence[str],
        seeds: Sequence[int],
        time_shift: bool = False,
    ) -> None:
        if features.shape[0] != targets.shape[0] or targets.shape[1] != len(class_names):
            raise ValueError("features, targets and class_names disagree")
        self.features = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32))
        self.targets = torch.from_numpy(np.ascontiguousarray(targets, dtype=np.float32))
        self.class_names = tuple(class_names)
        self.seeds = tuple(seeds)
        self.time_shift = time_shift  # random circular shift along time (augmentation)

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features[index]
        if self.time_shift:
            x = torch.roll(x, int(torch.randint(0, x.shape[-1], ()).item()), dims=-1)
        return x, self.targets[index]


def simulate_audio(
    count: int, seed: int, chunks_per_session: int = 12, device_id: str = "sim-recorder"
) -> list[SimulatedChunk]:
    """``count`` chunks from one simulated recorder (``ceil(count / chunks_per_session)`` sessions)."""
    sessions = max(1, math.ceil(count / chunks_per_session))
    config = SoundscapeConfig(
        device_id=f"{device_id}-{seed}", sessions=sessions, chunks_per_session=chunks_per_session, seed=seed
    )
    return list(SoundscapeSimulator(config).chunks(count))


def audio_dataset_from_chunks(
    chunks: Sequence[SimulatedChunk],
    class_names: Sequence[str],
    seeds: Sequence[int],
    preprocess: AudioPreprocessConfig | None = None,
    time_shift: bool = False,
) -> AudioDataset:
    """Features and targets of ``chunks``; species outside ``class_names`` are not labelled."""
    cfg = preprocess or AudioPreprocessConfig()
    index = {name: k for k, name in enumerate(class_names)}
    targets = np.zeros((len(chunks), len(class_names)), dtype=np.float32)
    for i, chunk in enumerate(chunks):
        for species in chunk.species:
            if species in index:
                targets[i, index[species]] = 1.0
    sample_rate = chunks[0].sample_rate if chunks else cfg.sample_rate
    features = (
        log_mel([c.waveform for c in chunks], sample_rate, cfg)
        if chunks
        else np.zeros((0, *cfg.input_shape), dtype=np.float32)
    )
    return AudioDataset(features, targets, class_names, seeds, time_shift)


def build_audio_datasets(
    train_size: int,
    heldout_size: int,
    *,
    train_seed: int = 0,
    heldout_seed: int = HELDOUT_SEED_BASE,
    class_names: Sequence[str] = BASE_SPECIES_IDS,
    preprocess: AudioPreprocessConfig | None = None,
    chunks_per_session: int = 12,
    time_shift: bool = True,
) -> tuple[AudioDataset, AudioDataset]:
    """(train, held-out) audio datasets from two different seeds (augmentation on train only)."""
    if train_seed == heldout_seed:
        raise ValueError("held-out data must use another seed than training")
    train = audio_dataset_from_chunks(
        simulate_audio(train_size, train_seed, chunks_per_session),
        class_names,
        (train_seed,),
        preprocess,
        time_shift,
    )
    heldout = audio_dataset_from_chunks(
        simulate_audio(heldout_size, heldout_seed, chunks_per_session),
        class_names,
        (heldout_seed,),
        preprocess,
        False,
    )
    assert_disjoint(train, heldout)
    return train, heldout


class VisionDataset(Dataset):
    """Frames at the model size (N, H, W, 3) uint8 and their boxes; items are model-ready tensors."""

    def __init__(
        self,
        images: np.ndarray,
        boxes: Sequence[np.ndarray],
        classes: Sequence[np.ndarray],
        preprocess: VisionPreprocessConfig,
        num_classes: int,
        seeds: Sequence[int],
        output_stride: int = 4,
        flip: bool = False,
    ) -> None:
        expected = (preprocess.input_height, preprocess.input_width, 3)
        if images.ndim != 4 or images.shape[1:] != expected or images.dtype != np.uint8:
            raise ValueError(f"images must be (N, {expected[0]}, {expected[1]}, 3) uint8")
        if not len(boxes) == len(classes) == images.shape[0]:
            raise ValueError("images, boxes and classes must have the same length")
        self.images = images
        self.boxes = [np.asarray(b, dtype=np.float32).reshape(-1, 4) for b in boxes]
        self.classes = [np.asarray(c, dtype=np.int64).reshape(-1) for c in classes]
        self.preprocess = preprocess
        self.num_classes = num_classes
        self.seeds = tuple(seeds)
        self.output_stride = output_stride
        self.flip = flip  # random horizontal and vertical flips (augmentation)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def ground_truth(self, index: int) -> ImageGroundTruth:
        return ImageGroundTruth(self.boxes[index], self.classes[index])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image, boxes = self.images[index], self.boxes[index].copy()
        if self.flip:
            if bool(torch.randint(0, 2, ()).item()):
                image = image[:, ::-1]
                boxes[:, [0, 2]] = 1.0 - boxes[:, [2, 0]]
            if bool(torch.randint(0, 2, ()).item()):
                image = image[::-1]
                boxes[:, [1, 3]] = 1.0 - boxes[:, [3, 1]]
        x = normalise_images(np.ascontiguousarray(image)[None], self.preprocess)[0]
        out_h = self.preprocess.input_height // self.output_stride
        out_w = self.preprocess.input_width // self.output_stride
        maps = encode_targets(boxes, self.classes[index], self.num_classes, out_h, out_w)
        return torch.from_numpy(x), {k: torch.from_numpy(v) for k, v in maps.items()}


def simulate_vision(
    count: int, seed: int, config: FieldCameraConfig | None = None, device_id: str = "sim-boom"
) -> list[SimulatedFrame]:
    """``count`` consecutive frames of one simulated boom camera (non-overlapping at :data:`VISION_FPS`)."""
    base = config or FieldCameraConfig(fps=VISION_FPS)
    return render_dataset(replace(base, device_id=f"{device_id}-{seed}", seed=seed), count)


def vision_dataset_from_frames(
    frames: Sequence,
    seeds: Sequence[int],
    preprocess: VisionPreprocessConfig | None = None,
    num_classes: int = len(CLASS_NAMES),
    flip: bool = False,
) -> VisionDataset:
    """A dataset of simulator frames (anything with ``.image`` and ``.boxes`` of ``Box``)."""
    cfg = preprocess or VisionPreprocessConfig()
    images = resize_images([f.image for f in frames], cfg)
    boxes = [
        np.array([(b.x1, b.y1, b.x2, b.y2) for b in f.boxes], dtype=np.float32).reshape(-1, 4) for f in frames
    ]
    classes = [np.array([b.class_id for b in f.boxes], dtype=np.int64) for f in frames]
    return VisionDataset(images, boxes, classes, cfg, num_classes, seeds, flip=flip)


def build_vision_datasets(
    train_size: int,
    heldout_size: int,
    *,
    train_seed: int = 0,
    heldout_seed: int = HELDOUT_SEED_BASE,
    preprocess: VisionPreprocessConfig | None = None,
    flip: bool = True,
) -> tuple[VisionDataset, VisionDataset]:
    """(train, held-out) vision datasets from two different seeds (flips on train only)."""
    if train_seed == heldout_seed:
        raise ValueError("held-out data must use another seed than training")
    train = vision_dataset_from_frames(
        simulate_vision(train_size, train_seed), (train_seed,), preprocess, flip=flip
    )
    heldout = vision_dataset_from_frames(
        simulate_vision(heldout_size, heldout_seed), (heldout_seed,), preprocess
    )
    assert_disjoint(train, heldout)
    return train, heldout
