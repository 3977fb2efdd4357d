"""Integration fixtures: one private stack of real services for the whole test session.

Kafka, PostgreSQL, Redis and MLflow run as local processes on free ports in a temporary data
folder, started once (session scope) and stopped by PID at the end. Tests get their own uuid-named
consumer groups so they do not see each other's offsets.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer

from app.stack.local_stack import LocalStack
from fieldstream.kafka.config import consumer_config, producer_config
from fieldstream.settings import Settings, load_settings


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A short path: PostgreSQL and Kafka are happier without very long data paths.
    return Path(os.environ.get("FIELDSTREAM_TEST_STACK_DIR") or tmp_path_factory.mktemp("stack"))


@pytest.fixture(scope="session")
def local_stack(stack_dir: Path) -> Iterator[LocalStack]:
    stack = LocalStack(stack_dir)
    stack.up(timeout_s=180)
    try:
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="session")
def settings(local_stack: LocalStack) -> Settings:
    return load_settings({}, data_dir=local_stack.data_dir)


@pytest.fixture()
def producer(settings: Settings) -> Iterator[Producer]:
    p = Producer(producer_config(settings))
    yield p
    p.flush(30)


@pytest.fixture()
def consumer_factory(settings: Settings) -> Iterator:
    made: list[Consumer] = []

    def make(*topics: str, group: str | None = None) -> Consumer:
        c = Consumer(consumer_config(settings, group or f"test-{uuid.uuid4().hex[:10]}"))
        c.subscribe(list(topics))
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


#: Tiny training runs for tests: small enough for minutes on 2 cores, big enough to learn something.
TINY_TRAINING = {
    "audio": ["--epochs", "4", "--train-size", "320", "--heldout-size", "96", "--batch-size", "32"],
    "vision": ["--epochs", "8", "--train-size", "128", "--heldout-size", "32", "--batch-size", "16"],
}


def run_training(stack_dir: Path, task: str, *extra: str) -> dict:
    """`fieldstream train TASK --json ...` as a user runs it (torchrun, MLflow); returns its result."""
    import json
    import subprocess
    import sys

    env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(stack_dir), "FIELDSTREAM_LOG_LEVEL": "warning"}
    out = subprocess.run(
        [sys.executable, "-m", "app", "train", task, "--json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, f"training failed:\n{out.stderr[-4000:]}"
    return json.loads(out.stdout[out.stdout.index("{") :])


def reported_metrics(result: dict, precision: str) -> dict[str, float]:
    """What training measured for the model variant a runtime runs: the int8 model's held-out
    metrics when it shipped (CPU runtimes then load it), else the float model's."""
    shipped = bool(result.get("int8", {}).get("shipped"))
    assert precision == ("int8" if shipped else "fp32"), (precision, result.get("int8"))
    return result["int8"]["metrics"] if shipped else result["metrics"]


@pytest.fixture(scope="session")
def trained_models(local_stack: LocalStack, settings: Settings) -> dict[str, dict]:
    """A tiny vision and audio model, trained here with the real trainer, registered and promoted to
    champion (by hand: tiny models do not clear the production gate's floor)."""
    from model_contract.registry import ModelRegistry

    registry = ModelRegistry(settings.mlflow_tracking_uri)
    models = {}
    for task, args in TINY_TRAINING.items():
        result = run_training(local_stack.data_dir, task, *args, "--no-gate")
        registry.promote(result["model_name"], result["version"], "test fixture: tiny model")
        models[task] = result
    return models
