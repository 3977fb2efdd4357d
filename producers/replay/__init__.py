"""Replayers of real datasets, as ready-to-send records (no Kafka client inside).

- :mod:`.yolo` / :mod:`.images`: YOLO-format image folders -> ``frames.raw.v1`` + ``labels.v1``.
- :mod:`.audio` (resampling and chunking maths), :mod:`.birdclef` (``train.csv`` /
  ``taxonomy.csv``), :mod:`.audio_files`: audio folders -> ``audio.raw.v1`` + ``labels.v1``.
"""

from producers.replay.audio import chunk_stream, file_chunks, resample_stream
from producers.replay.audio_files import find_audio_files, replay_audio
from producers.replay.birdclef import BirdclefLabels
from producers.replay.images import replay_images
from producers.replay.yolo import YoloDataset

__all__ = [
    "BirdclefLabels",
    "YoloDataset",
    "chunk_stream",
    "file_chunks",
    "find_audio_files",
    "replay_audio",
    "replay_images",
    "resample_stream",
]
