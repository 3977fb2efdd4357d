"""Training datasets.

- :mod:`.simulated`: in-memory torch datasets rendered directly from the device simulators, with
  training and held-out data drawn from disjoint simulator seeds.

(The offline-store snapshot builder lands here next.)
"""

from training.data.simulated import (
    HELDOUT_SEED_BASE,
    AudioDataset,
    VisionDataset,
    assert_disjoint,
    build_audio_datasets,
    build_vision_datasets,
    simulate_audio,
    simulate_vision,
)

__all__ = [
    "HELDOUT_SEED_BASE",
    "AudioDataset",
    "VisionDataset",
    "assert_disjoint",
    "build_audio_datasets",
    "build_vision_datasets",
    "simulate_audio",
    "simulate_vision",
]
