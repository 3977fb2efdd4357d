"""Feature definitions shared by the stream jobs, training and serving (one definition, no skew).

Plain, vectorised numpy functions on decoded arrays (never Kafka records or encoded bytes):

- frames: :func:`frame_features_batch` on ``(N, H, W, 3)`` uint8 RGB, :func:`frame_features` on one
  ``(H, W, 3)`` image, names in :data:`FRAME_FEATURE_NAMES`;
- audio: :func:`audio_features_batch` on ``(N, S)`` float waveforms in [-1, 1], :func:`audio_features`
  on one ``(S,)`` waveform, names in :data:`AUDIO_FEATURE_NAMES`.

Batch functions return ``{name: (N,) float64 array}``; single-item wrappers return
``{name: float}``; both always finite. :data:`FEATURE_SET_VERSION` names this set of definitions:
bump it whenever a formula, threshold or constant changes, so stored features are never mixed across
definitions. Formulas, units and references: ``FEATURES.md`` next to this file.
"""

from feature_store.features.audio import (
    AUDIO_FEATURE_NAMES,
    DEFAULT_SAMPLE_RATE,
    audio_features,
    audio_features_batch,
)
from feature_store.features.frames import FRAME_FEATURE_NAMES, frame_features, frame_features_batch

FEATURE_SET_VERSION = "v1"

__all__ = [
    "AUDIO_FEATURE_NAMES",
    "DEFAULT_SAMPLE_RATE",
    "FEATURE_SET_VERSION",
    "FRAME_FEATURE_NAMES",
    "audio_features",
    "audio_features_batch",
    "frame_features",
    "frame_features_batch",
]
