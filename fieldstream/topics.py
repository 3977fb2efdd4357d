"""Topic names (v1) and the topic specs declared in ``kafka/topics.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fieldstream.paths import TOPICS_FILE

FRAMES_RAW = "frames.raw.v1"
AUDIO_RAW = "audio.raw.v1"
FEATURES_FRAMES = "features.frames.v1"
FEATURES_AUDIO = "features.audio.v1"
DETECTIONS_VISION = "detections.vision.v1"
DETECTIONS_AUDIO = "detections.audio.v1"
LABELS = "labels.v1"
ACTIONS_SPRAY = "actions.spray.v1"
INSIGHTS_SPECIES = "insights.species.v1"
MODELS_EVENTS = "models.events.v1"
DEADLETTER = "deadletter.v1"

ALL_TOPICS = (
    FRAMES_RAW,
    AUDIO_RAW,
    FEATURES_FRAMES,
    FEATURES_AUDIO,
    DETECTIONS_VISION,
    DETECTIONS_AUDIO,
    LABELS,
    ACTIONS_SPRAY,
    INSIGHTS_SPECIES,
    MODELS_EVENTS,
    DEADLETTER,
)


@dataclass(frozen=True)
class TopicSpec:
    """One topic as declared: partitions, replication and topic-level configs (retention, compaction)."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


def load_topic_specs(path: Path = TOPICS_FILE) -> list[TopicSpec]:
    """Parse ``topics.yaml``: each topic's own values over the file's ``defaults``."""
    doc = yaml.safe_load(path.read_text())
    defaults = doc.get("defaults", {})
    specs = []
    for name, own in (doc.get("topics") or {}).items():
        own = own or {}
        config = {**defaults.get("config", {}), **own.get("config", {})}
        specs.append(
            TopicSpec(
                name=name,
                partitions=int(own.get("partitions", defaults.get("partitions", 1))),
                replication_factor=int(own.get("replication_factor", defaults.get("replication_factor", 1))),
                config={k: str(v) for k, v in config.items()},
            )
        )
    return specs
