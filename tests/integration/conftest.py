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

from fieldstream.kafka.config import consumer_config, producer_config
from fieldstream.settings import Settings, load_settings
from fieldstream.stack.runner import LocalStack


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
