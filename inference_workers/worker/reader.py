"""``BatchReader``: the input side of the worker loop — micro-batches from the consumer, the batch read
ahead, and the rewinds that make records be read again.

The loop reads the next batch as soon as one is in hand (:meth:`BatchReader.read_ahead`), so it
decodes while the one in hand runs the model and its transaction commits. A batch read ahead belongs
to no transaction: after an abort it is rewound with the rest, after a rebalance it is simply dropped
(every partition restarts from its committed offset), after a stop it is rewound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaException, Message

from inference_workers.runtime.model import ModelRuntime
from inference_workers.worker.batches import Batch, BatchDecoder
from inference_workers.worker.transaction import first_offsets

log = logging.getLogger("fieldstream.worker")


class BatchReader:
    def __init__(
        self,
        consumer: Any,  # a subscribed confluent_kafka.Consumer (or a stand-in with its methods)
        decoder: BatchDecoder,
        max_batch: int,
        between_batches: Callable[[], ModelRuntime],  # runs after each read: the version to decode with
    ) -> None:
        self.consumer = consumer
        self.max_batch = max_batch
        self._decoder = decoder
        self._between_batches = between_batches
        self._ahead: Batch | None = None  # read, decoding, not yet in the transaction

    def next(self, wait_s: float) -> Batch:
        """The batch read ahead if it holds records, else up to ``max_batch`` records read now
        (waiting at most ``wait_s``)."""
        batch, self._ahead = self._ahead, None
        if batch is None or not batch.msgs:
            batch = self.read(wait_s)
        return batch

    def read_ahead(self) -> None:
        """Read whatever is fetched already, to decode while the batch in hand is processed."""
        self._ahead = self.read(0.0)

    def read(self, wait_s: float) -> Batch:
        """Up to ``max_batch`` records (waiting at most ``wait_s``), their decoding started with the
        model version ``between_batches`` gives (a swap happens there, between batches)."""
        msgs = [m for m in self.consumer.consume(self.max_batch, wait_s) if not _is_error(m)]
        runtime = self._between_batches()
        return self._decoder.start(msgs, runtime)

    def drop_ahead(self) -> list[Message]:
        """Forget the batch read ahead (cancelling its decoding); returns its records."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return []
        ahead.cancel()
        return ahead.msgs

    def rewind(self, in_hand: Sequence[Message], since: Mapping[tuple[str, int], int] | None = None) -> None:
        """Seek back so the records from ``since`` (partition -> first offset), ``in_hand`` and the
        batch read ahead after them are read again."""
        for tp in first_offsets([*in_hand, *self.drop_ahead()], since):
            try:
                self.consumer.seek(tp)
            except KafkaException:
                continue  # no longer ours after a rebalance: the new owner reads from the commit

    def close(self) -> None:
        self.consumer.close()
        self._decoder.shutdown()


def _is_error(msg: Message) -> bool:
    if msg.error() is None:
        return False
    log.warning("consumer error", extra={"error": str(msg.error())})
    return True
