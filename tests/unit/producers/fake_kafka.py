"""A delivered message as the producers' delivery callbacks see it (unit tests' stand-in)."""

from __future__ import annotations


class FakeMessage:
    def __init__(self, topic: str, value: bytes) -> None:
        self._topic, self._value = topic, value

    def topic(self) -> str:
        return self._topic

    def value(self) -> bytes:
        return self._value
