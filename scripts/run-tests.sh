#!/usr/bin/env bash
# The whole suite: lint, unit tests, then integration tests against a private stack of real services
# (started and stopped by the tests' session fixture, on free ports, in a temporary data folder).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/python -m pytest tests -q --timeout=900 "$@"
