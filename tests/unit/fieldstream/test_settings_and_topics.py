from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from fieldstream.settings import load_settings
from fieldstream.topics import ALL_TOPICS, load_topic_specs


def test_stack_file_fills_settings_and_environment_wins(tmp_path: Path):
    (tmp_path / "stack.json").write_text(
        json.dumps(
            {
                "settings": {
                    "kafka_bootstrap": "127.0.0.1:1111",
                    "redis_url": "redis://127.0.0.1:2222/0",
                    "postgres_dsn": "postgresql://fieldstream@127.0.0.1:3333/fieldstream",
                }
            }
        )
    )
    env = {"FIELDSTREAM_DATA_DIR": str(tmp_path), "FIELDSTREAM_REDIS_URL": "redis://elsewhere:6379/1"}
    settings = load_settings(env)
    assert settings.kafka_bootstrap == "127.0.0.1:1111"
    assert settings.postgres_dsn.endswith(":3333/fieldstream")
    assert settings.redis_url == "redis://elsewhere:6379/1"
    assert settings.stack_file == tmp_path / "stack.json"


def test_defaults_without_stack_file(tmp_path: Path):
    settings = load_settings({"FIELDSTREAM_DATA_DIR": str(tmp_path / "none")})
    assert settings.max_payload_bytes == 8 * 1024 * 1024
    assert settings.kafka_bootstrap == "127.0.0.1:9092"


def test_bad_values_are_refused(tmp_path: Path):
    with pytest.raises(ValidationError, match="max_payload_bytes"):
        load_settings({"FIELDSTREAM_DATA_DIR": str(tmp_path), "FIELDSTREAM_MAX_PAYLOAD_BYTES": "-4"})


def test_settings_are_frozen(tmp_path: Path):
    settings = load_settings({"FIELDSTREAM_DATA_DIR": str(tmp_path)})
    with pytest.raises(ValidationError):
        settings.kafka_bootstrap = "x"  # type: ignore[misc]


def test_topics_yaml_declares_every_topic_with_its_settings():
    specs = {s.name: s for s in load_topic_specs()}
    assert set(specs) == set(ALL_TOPICS)
    assert specs["frames.raw.v1"].partitions == 8
    assert specs["frames.raw.v1"].config["max.message.bytes"] == "10485760"
    assert specs["models.events.v1"].config["cleanup.policy"] == "compact"
    assert specs["labels.v1"].config["retention.ms"] == "2592000000"
    assert specs["features.audio.v1"].config["retention.ms"] == "604800000"  # the file's default
