"""Request-body limit for the model server: a body over the limit is answered 413 before it is parsed.

The limit follows ``FIELDSTREAM_MAX_PAYLOAD_BYTES`` (the largest media element a record may carry):
one element at the limit, base64-encoded in JSON, plus room for the JSON around it. The body is
read and dropped (up to :data:`DRAIN_LIMIT`) before answering, so the client reads the 413 instead
of a reset connection.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: JSON envelope allowed around the media (names, shapes, parameters).
ENVELOPE_BYTES = 64 * 1024
#: The most bytes read and dropped from a rejected body; past that the connection is closed.
DRAIN_LIMIT = 64 * 1024 * 1024


def max_body_bytes(max_payload_bytes: int) -> int:
    return math.ceil(max_payload_bytes * 4 / 3) + ENVELOPE_BYTES


class BodyLimit:
    """ASGI middleware: 413 for a POST body over ``limit`` bytes (by Content-Length, or counted)."""

    def __init__(self, app: ASGIApp, limit: int, on_reject: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await _drain(receive, declared)
                await self._reject(scope, send, declared)
                return
            await self.app(scope, receive, send)
            return
        messages, size = await _buffer(receive, self.limit)  # chunked: count as it arrives
        if size > self.limit:
            if messages[-1].get("more_body", False):
                await _drain(receive, DRAIN_LIMIT)
            await self._reject(scope, send, size, at_least=True)
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)

    async def _reject(self, scope: Scope, send: Send, size: int, at_least: bool = False) -> None:
        if self.on_reject:
            self.on_reject(_model_from_path(scope.get("path", "")))
        message = (
            f"request body of {'more than ' if at_least else ''}{size} bytes exceeds the limit of"
            f" {self.limit} bytes (FIELDSTREAM_MAX_PAYLOAD_BYTES plus base64 and JSON overhead);"
            " send fewer or smaller inputs per request"
        )
        body = json.dumps({"error": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _buffer(receive: Receive, limit: int) -> tuple[list[Message], int]:
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, size
        size += len(message.get("body", b""))
        if size > limit or not message.get("more_body", False):
            return messages, size


async def _drain(receive: Receive, up_to: int) -> None:
    read = 0
    while read <= min(up_to, DRAIN_LIMIT):
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def _model_from_path(path: str) -> str:
    parts = path.strip("/").split("/")
    return parts[2] if len(parts) > 2 and parts[:2] == ["v2", "models"] else ""
