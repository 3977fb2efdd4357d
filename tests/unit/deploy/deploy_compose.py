"""docker-compose.yml against the Compose Specification's JSON schema.

The schema ships inside the Go module github.com/compose-spec/compose-go/v2 (``schema/compose-spec.json``),
copied into ``.tools/schemas`` by scripts/install-k8s-tools.sh.
"""

from __future__ import annotations

import functools
import json

import jsonschema
import yaml
from deploy_render import ROOT, tool_file

COMPOSE_FILE = ROOT / "docker-compose.yml"


@functools.cache
def compose_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(tool_file("schemas/compose-spec.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def compose_errors(doc: dict) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
        for e in sorted(compose_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]


def load_compose(text: str | None = None) -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text() if text is None else text)
