"""Contract errors: one root, one subclass per way a record can be wrong, each with a specific message."""

from __future__ import annotations


class ContractError(ValueError):
    """A record does not follow its contract. ``str(error)`` is the reason sent to the dead-letter topic."""


class MissingHeaderError(ContractError):
    def __init__(self, name: str) -> None:
        super().__init__(f"header {name} missing")
        self.header = name


class InvalidHeaderError(ContractError):
    def __init__(self, name: str, raw: bytes | str, expected: str) -> None:
        shown = raw if isinstance(raw, str) else raw[:40]
        super().__init__(f"header {name} is not {expected}: {shown!r}")
        self.header = name


class UnsupportedContentTypeError(ContractError):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"content_type {content_type} not supported")
        self.content_type = content_type


class ContentMismatchError(ContractError):
    """The bytes are not what the content type says (checked on the magic bytes)."""


class EmptyPayloadError(ContractError):
    def __init__(self) -> None:
        super().__init__("payload is empty")


class PayloadTooLargeError(ContractError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"payload {_megabytes(size)} MB exceeds limit {_megabytes(limit)} MB")
        self.size = size
        self.limit = limit


class InvalidJSONError(ContractError):
    """A derived message is not valid UTF-8 JSON."""


class SchemaValidationError(ContractError):
    """A derived message is JSON but breaks its JSON Schema."""


def _megabytes(size: int) -> str:
    value = size / (1024 * 1024)
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
