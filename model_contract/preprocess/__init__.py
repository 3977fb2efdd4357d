"""The one place for model-input preprocessing, shared by training and the inference runtime.

Both halves are plain numpy (plus Pillow for image resizing), so inference workers can import them
without torch. A model stores its preprocessing config next to its weights (``to_dict``/``from_dict``);
the runtime rebuilds the config from there and calls the same function training used.

- :mod:`.vision`: :func:`prepare_images` (resize, [0, 1], fixed mean/std, NCHW float32) and
  :func:`decode_for_model` (encoded bytes straight to model-size pixels).
- :mod:`.audio`: :func:`log_mel` (pad/crop to 5 s, numpy STFT, mel filterbank, log, fixed scaling).
"""

from model_contract.preprocess.audio import (
    AudioPreprocessConfig,
    fit_length,
    log_mel,
    mel_filterbank,
    mel_frequencies,
)
from model_contract.preprocess.vision import (
    VisionPreprocessConfig,
    decode_for_model,
    normalise_images,
    prepare_images,
    resize_images,
)

__all__ = [
    "AudioPreprocessConfig",
    "VisionPreprocessConfig",
    "decode_for_model",
    "fit_length",
    "log_mel",
    "mel_filterbank",
    "mel_frequencies",
    "normalise_images",
    "prepare_images",
    "resize_images",
]
