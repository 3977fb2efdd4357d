"""Model lifecycle events on ``models.events.v1`` (key = model name; the topic is compacted)."""

from __future__ import annotations

import time
from typing import Any

from fieldstream.contracts import encode_message
from fieldstream.kafka.clients import new_producer
from fieldstream.settings import Settings
from fieldstream.topics import MODELS_EVENTS

EVENTS = ("trained", "evaluated", "promoted", "rolled_back", "rejected")


def model_event(
    event: str,
    model_name: str,
    version: str,
    *,
    alias: str | None = None,
    run_id: str | None = None,
    metrics: dict[str, float] | None = None,
    reason: str | None = None,
    uri: str | None = None,
) -> dict[str, Any]:
    """A ``models.events.v1`` message (validated when encoded)."""
    message: dict[str, Any] = {"event": event, "model_name": model_name, "version": str(version)}
    optional = {"alias": alias, "run_id": run_id, "metrics": metrics, "reason": reason, "uri": uri}
    message.update({k: v for k, v in optional.items() if v is not None})
    message["at"] = int(time.time() * 1000)
    return message


def publish_model_event(settings: Settings, message: dict[str, Any], timeout_s: float = 15.0) -> None:
    """Produce one event and wait for the broker's acknowledgement (raises if it is not delivered)."""
    errors: list[str] = []

    def on_delivery(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    producer = new_producer(settings)
    producer.produce(
        MODELS_EVENTS,
        key=message["model_name"].encode(),
        value=encode_message(MODELS_EVENTS, message),
        on_delivery=on_delivery,
    )
    left = producer.flush(timeout_s)
    if left or errors:
        raise RuntimeError(f"model event not delivered to {MODELS_EVENTS}: {errors or f'{left} pending'}")
