"""Structured logging: JSON lines with the extra fields, written to the current stderr."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from fieldstream.logs import configure_logging


@pytest.fixture
def restore_root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_json_lines_go_to_the_stderr_of_the_moment_not_the_one_at_configuration(
    monkeypatch, restore_root_logging
):
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    configure_logging("info", "json")
    first.close()  # e.g. a test's captured stream, closed after that test
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("fieldstream.test").info("batch done", extra={"records": 16})
    line = json.loads(second.getvalue())
    assert (line["level"], line["logger"], line["msg"], line["records"]) == (
        "info",
        "fieldstream.test",
        "batch done",
        16,
    )
