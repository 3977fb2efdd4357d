# FieldStream: one entry point. `make demo` and `make test` install whatever is missing first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed

STAMP_JARS := kafka/lib/.fetched
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup demo test test-unit test-integration lint format bench stack-up stack-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(STAMP_PY) sysdeps $(STAMP_JARS) deploy-tools ## install what is missing: venv + Python deps, Debian packages, Kafka/Flink jars, deploy-check tools

$(STAMP_PY): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) -q -e ".[dev]"
	@touch $@

.PHONY: sysdeps
sysdeps:
	@bash scripts/install-system-deps.sh

.PHONY: deploy-tools
deploy-tools: sysdeps ## kustomize + CRD and compose schemas for the offline deploy checks (.tools/)
	@bash scripts/install-k8s-tools.sh

$(STAMP_JARS): kafka/pom.xml
	mvn -q -B -f kafka/pom.xml package
	@touch $@

demo: setup ## start the local stack and run the pipeline on simulated devices
	$(VENV)/bin/fieldstream demo

test: setup ## run every test (unit + integration against real services)
	@bash scripts/run-tests.sh $(PYTEST_ARGS)

test-unit: setup ## unit tests only (no services)
	$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

test-integration: setup ## integration tests only (starts a private stack)
	$(PY) -m pytest tests/integration -q $(PYTEST_ARGS)

lint: $(STAMP_PY) ## ruff check + format check + the layer contracts (import-linter, see ARCHITECTURE.md)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP_PY) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup ## run the benchmarks (each prints JSON)
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

stack-up: setup ## fieldstream stack up (data in ./.fieldstream)
	$(VENV)/bin/fieldstream stack up

stack-down: ## fieldstream stack down
	$(VENV)/bin/fieldstream stack down

clean: stack-down ## stop the stack and remove the venv, jars and local data
	rm -rf $(VENV) kafka/lib .fieldstream
