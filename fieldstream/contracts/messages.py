"""Derived JSON messages: encode/decode with validation against ``kafka/schemas/<topic>.json``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from fieldstream.contracts.errors import EmptyPayloadError, InvalidJSONError, SchemaValidationError
from fieldstream.paths import SCHEMAS_DIR


def schema_topics() -> list[str]:
    """Every topic that has a JSON Schema (the derived, JSON-valued topics)."""
    return sorted(p.name.removesuffix(".json") for p in SCHEMAS_DIR.glob("*.json"))


@cache
def _schema(topic: str) -> dict[str, Any]:
    path = SCHEMAS_DIR / f"{topic}.json"
    if not path.exists():
        raise KeyError(f"no JSON Schema for topic {topic} in {SCHEMAS_DIR}")
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def validator_for(topic: str) -> Draft202012Validator:
    """The reference validator: slow, but it explains a failure best (used for error messages)."""
    return Draft202012Validator(_schema(topic))


@cache
def _fast_validator(topic: str) -> Any:
    """A compiled validator (~20x faster): the hot path of every producer and consumer."""
    return fastjsonschema.compile(_schema(topic))


def validate_message(topic: str, message: Any) -> None:
    """Raise :class:`SchemaValidationError` naming the failing field when ``message`` breaks the schema."""
    try:
        _fast_validator(topic)(message)
        return
    except fastjsonschema.JsonSchemaValueException as fast_error:
        error = best_match(validator_for(topic).iter_errors(message))
        if error is None:  # the two validators disagree: trust the stricter one, say what it said
            raise SchemaValidationError(f"{topic} schema violation: {fast_error.message}") from fast_error
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    raise SchemaValidationError(f"{topic} schema violation at {where}: {error.message}")


def encode_message(topic: str, message: dict[str, Any]) -> bytes:
    """Validate, then serialise as compact UTF-8 JSON."""
    validate_message(topic, message)
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def decode_message(topic: str, value: bytes | None) -> dict[str, Any]:
    """Parse and validate one derived message; specific errors for empty, non-JSON and invalid."""
    if not value:
        raise EmptyPayloadError()
    try:
        message = json.loads(value)
    except UnicodeDecodeError as exc:
        raise InvalidJSONError(f"{topic} message is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidJSONError(
            f"{topic} message is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    if not isinstance(message, dict):
        raise SchemaValidationError(f"{topic} message must be a JSON object, got {type(message).__name__}")
    validate_message(topic, message)
    return message
