"""Defaults shared by ``fieldstream produce`` and the modules that do the work, each defined once.

Light to import (no numpy, PIL or Kafka client): the CLI reads its option defaults from here while
the publisher, the publishing loop, the render workers and the simulators take theirs from here too.
The audio format itself (32 kHz, 5 s chunks) is the kernel's (:mod:`fieldstream.modality`); the
sample and millisecond counts below are derived from it.
"""

from __future__ import annotations

import math

from fieldstream.kafka.config import MAX_MESSAGE_BYTES
from fieldstream.modality import AUDIO_CHUNK_SECONDS, AUDIO_SAMPLE_RATE
from fieldstream.settings import MB

# -- publishing (producers.publisher, producers.publish_loop) --------------------------------------
DEFAULT_QUEUE_MESSAGES = 10_000
DEFAULT_QUEUE_KBYTES = 64 * 1024  # 64 MiB of media waiting in the client at most
DEFAULT_MESSAGE_TIMEOUT_MS = 120_000  # a record not delivered after 2 min is reported as failed
DEFAULT_FLUSH_TIMEOUT_S = 60.0  # how long the end of a run waits for delivery reports
#: the smallest local queue (MiB) that still holds the largest record
MIN_QUEUE_MB = math.ceil(MAX_MESSAGE_BYTES / MB)

# -- simulated boom cameras (producers.field_camera, producers.device_runs) ------------------------
DEFAULT_CAMERA_FPS = 10.0

# -- render worker processes (producers.render_workers) --------------------------------------------
MAX_DEFAULT_RENDER_WORKERS = 4
MIN_POOLED_FRAMES = 1000  # shorter runs do not win back the workers' start-up (a few seconds)

# -- the soundscape format, derived from the kernel's ----------------------------------------------
AUDIO_CHUNK_SAMPLES = round(AUDIO_CHUNK_SECONDS * AUDIO_SAMPLE_RATE)  # 160,000
AUDIO_CHUNK_MS = round(AUDIO_CHUNK_SECONDS * 1000)
