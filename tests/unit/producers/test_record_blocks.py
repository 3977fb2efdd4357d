"""Work units of a simulated run (producers/record_blocks.py): blocks dealt row by row, and the
rendered rows put back in round-robin order."""

from __future__ import annotations

from itertools import islice

import pytest

from producers.record_blocks import RecordBlock, interleave, record_blocks


def test_record_blocks_go_row_by_row_and_the_last_row_is_short() -> None:
    blocks = list(record_blocks(2, 5, 2))
    assert blocks == [
        RecordBlock(0, 0, 2),
        RecordBlock(1, 0, 2),
        RecordBlock(0, 2, 2),
        RecordBlock(1, 2, 2),
        RecordBlock(0, 4, 1),
        RecordBlock(1, 4, 1),
    ]
    assert list(islice(record_blocks(1, None, 3), 3)) == [RecordBlock(0, s, 3) for s in (0, 3, 6)]
    assert list(record_blocks(3, 0, 4)) == []
    with pytest.raises(ValueError, match="per_block"):
        next(record_blocks(1, 5, 0))


def test_interleave_puts_rows_back_in_round_robin_order() -> None:
    rows = [["a0", "a1"], ["b0", "b1"], ["a2"], ["b2"]]  # blocks of devices a, b: records 0-1, then 2
    assert list(interleave(rows, 2)) == ["a0", "b0", "a1", "b1", "a2", "b2"]
