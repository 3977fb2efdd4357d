"""Training datasets.

- :mod:`.simulated`: in-memory torch datasets rendered directly from the device simulators, with
  training and held-out data drawn from disjoint simulator seeds.
- :mod:`.snapshot`: dataset snapshots from the offline store (labels + archived media as of a time,
  a reproducible device/time split, a manifest with content hashes) and their loader.
- :mod:`.folders`: YOLO image folders and BirdCLEF-style audio folders, parsed by the replayers.
"""

from typing import Any

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


def __getattr__(name: str) -> Any:
    """The simulated-data names, imported on first use (torch is slow to import; the snapshot
    builder and the CLI do not need it)."""
    if name in __all__:
        from training.data import simulated

        return getattr(simulated, name)
    raise AttributeError(f"module 'training.data' has no attribute {name!r}")
