"""Where FieldStream's own files live: the repository root and the folders next to the package."""

from __future__ import annotations

from pathlib import Path

#: The repository root (the folder holding `fieldstream/`, `kafka/`, `feature_store/`, ...).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
KAFKA_DIR = PROJECT_ROOT / "kafka"
SCHEMAS_DIR = KAFKA_DIR / "schemas"
TOPICS_FILE = KAFKA_DIR / "topics.yaml"
KAFKA_BROKER_LIB = KAFKA_DIR / "lib" / "broker"
FLINK_CONNECTOR_LIB = KAFKA_DIR / "lib" / "flink"
DEFAULT_DATA_DIR = Path(".fieldstream")
STACK_FILE_NAME = "stack.json"
