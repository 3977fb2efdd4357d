"""The online store interface (Feast-style: one small ABC, one module per backend)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from feature_store.online.layout import FeatureRow


class OnlineStoreError(RuntimeError):
    """The online store could not be written or read (the cause is chained)."""


class OnlineStore(ABC):
    """Latest feature rows per entity; a write never replaces a row with an older ``captured_at``."""

    @abstractmethod
    def write_latest(self, rows: Sequence[FeatureRow]) -> int:
        """Store each row under every entity it belongs to, unless that entity already holds a newer
        row. Return how many entity keys were updated."""

    @abstractmethod
    def read_latest(self, view: str, entity: str, entity_id: str) -> FeatureRow | None:
        """The latest row of ``view`` for one entity (``device`` or ``session``), or None."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
