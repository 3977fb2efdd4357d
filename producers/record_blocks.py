"""Work units of a simulated run: :class:`RecordBlock` s of consecutive records of one device, dealt
row by row (:func:`record_blocks`) and put back in round-robin order (:func:`interleave`).

Whoever renders the blocks (in this process or in worker processes), :func:`interleave` gives the
records in the same order: record 0 of every device, then record 1, ...
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import count as counter
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RecordBlock:
    """Records ``start .. start + count - 1`` of device number ``device`` (0-based)."""

    device: int
    start: int
    count: int


def record_blocks(devices: int, count: int | None, per_block: int) -> Iterator[RecordBlock]:
    """Blocks of ``per_block`` records, row by row (a row = the same records of every device, device
    0 first); the last row is shorter when ``count`` (records per device, None = endless) ends it."""
    if per_block < 1:
        raise ValueError("per_block must be >= 1")
    for start in counter(0, per_block):
        size = per_block if count is None else min(per_block, count - start)
        if size <= 0:
            return
        for device in range(devices):
            yield RecordBlock(device, start, size)


def interleave(blocks: Iterable[list[T]], devices: int) -> Iterator[T]:
    """The records of rendered rows of blocks (see :func:`record_blocks`), round-robin by record."""
    rendered = iter(blocks)
    while row := list(islice(rendered, devices)):
        for records in zip(*row, strict=True):
            yield from records
