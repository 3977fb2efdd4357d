"""``TransactionalOutput``: the worker's transactional producer, the transaction it has open and the
one it is committing.

Detections and dead letters are produced inside a Kafka transaction that also commits the input
offsets they came from (``send_offsets_to_transaction``), so a read-committed reader sees each input
record's output exactly once. A transaction spans one or more micro-batches; committing it runs on a
background thread (its round trips to the broker overlap the next batch's decoding and inference),
and nothing more is produced until it is through (a producer has one transaction at a time).

When a transaction aborts (a failed commit, a failed produce, a batch that failed), every record it
covered is read again: the output seeks back through ``rewind``, which the worker gives it, because
only the worker knows what it read after them (the batch in hand, the batch read ahead). A fatal error
(e.g. fenced by a newer worker with the same ``transactional.id``) is re-raised: the worker stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException, Message

from fieldstream.contracts import ContractError
from fieldstream.kafka.routing import reject_to_deadletter
from inference_workers.metrics import WorkerMetrics
from inference_workers.worker.transaction import OpenTransaction

log = logging.getLogger("fieldstream.worker")
TXN_TIMEOUT_S = 30.0

#: ``rewind(in_hand, since)``: seek back so the records from ``since`` (partition -> first offset),
#: ``in_hand`` and whatever was read after them are read again.
Rewind = Callable[[Sequence[Message], Mapping[tuple[str, int], int]], None]


@dataclass
class _Commit:
    """A transaction being committed on the committer thread (the future gives the commit's ms)."""

    txn: OpenTransaction
    done: Future[float]


class TransactionalOutput:
    def __init__(
        self,
        producer: Any,  # a transactional confluent_kafka.Producer (or a stand-in with its methods)
        consumer: Any,  # the input's consumer: its group metadata goes with the offsets
        topic: str,
        rewind: Rewind,
        metrics: WorkerMetrics,
        model_version: Callable[[], str],  # the version serving now (labels the commit time)
    ) -> None:
        self.topic = topic
        self.committed = 0  # records whose transaction committed
        self._producer = producer
        self._consumer = consumer
        self._rewind = rewind
        self._metrics = metrics
        self._model_version = model_version
        self._txn: OpenTransaction | None = None  # open: producing
        self._committing: _Commit | None = None  # closed, committing on the committer thread
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="commit")

    def init(self) -> None:
        """Register the ``transactional.id`` with the broker (fencing any older producer with it)."""
        self._producer.init_transactions(TXN_TIMEOUT_S)

    @property
    def pending(self) -> int:
        """Records produced but not committed yet (open or committing)."""
        committing = self._committing.txn.records if self._committing is not None else 0
        return committing + (self._txn.records if self._txn is not None else 0)

    def due(self, interval_ms: float) -> bool:
        """Whether a transaction is open and has spanned ``interval_ms``."""
        return self._txn is not None and self._txn.age_ms() >= interval_ms

    def write(
        self,
        msgs: Sequence[Message],
        rejected: Iterable[tuple[Message, ContractError]],
        records: Iterable[tuple[bytes | None, bytes]],
    ) -> bool:
        """Produce one batch inside the open transaction (begun if none is): the dead letters of
        ``rejected``, then ``records`` (key, value) to :attr:`topic`; ``msgs``' offsets join it.
        Call :meth:`finish_commit` first. False when producing failed and the transaction was
        aborted (everything rewound); any error but Kafka's aborts it too and is re-raised."""
        assert self._committing is None, "a transaction begins only once the previous one is through"
        if self._txn is None:
            self._producer.begin_transaction()
            self._txn = OpenTransaction()
        self._txn.add(msgs)
        try:
            for msg, error in rejected:
                reject_to_deadletter(msg, error, self._producer)  # dead letters join the transaction
                self._metrics.track_error("deadletter")
            for key, value in records:
                self._producer.produce(self.topic, key=key, value=value)
        except KafkaException as exc:
            self._abort_and_rewind(exc)
            return False
        except Exception:
            self._abort_and_rewind(None)
            raise
        return True

    def start_commit(self) -> None:
        """Close the open transaction (if any) and commit it on the committer thread: its records,
        dead letters and input offsets. Nothing may be produced until it is through."""
        if self._txn is None:
            return
        assert self._committing is None
        txn, self._txn = self._txn, None
        offsets, group = txn.commit_offsets(), self._consumer.consumer_group_metadata()
        producer = self._producer

        def commit() -> float:
            t0 = time.perf_counter()
            producer.send_offsets_to_transaction(offsets, group, TXN_TIMEOUT_S)
            producer.commit_transaction(TXN_TIMEOUT_S)
            return (time.perf_counter() - t0) * 1e3

        self._committing = _Commit(txn, self._committer.submit(commit))

    def finish_commit(self, in_hand: Sequence[Message] = ()) -> bool:
        """Wait for the commit under way (if any). False when it failed and was aborted: its records,
        ``in_hand`` (read after them, not produced yet) and what was read after those are read again."""
        committing, self._committing = self._committing, None
        if committing is None:
            return True
        try:
            ms = committing.done.result()
        except KafkaException as exc:
            assert self._txn is None  # none begins before the one committing is through
            self._txn = committing.txn  # what the abort undoes
            self._abort_and_rewind(exc, in_hand)
            return False
        self.committed += committing.txn.records
        self._metrics.track_stage("commit", self._model_version(), ms)
        return True

    def commit(self) -> bool:
        """Commit everything produced (the transaction committing, then the open one) and wait for
        it; False when it had to be aborted: its records, and what was read after them, are read again."""
        if not self.finish_commit():
            return False
        self.start_commit()
        return self.finish_commit()

    def abort(self, in_hand: Sequence[Message] = ()) -> None:
        """Give up: wait for the commit under way (a failed one has rewound everything already), then
        abort the open transaction (if any) and rewind so its records, ``in_hand`` (a batch that
        failed before it was produced) and what was read after them are read again."""
        if self.finish_commit(in_hand):
            self._abort_and_rewind(None, in_hand)

    def close(self, flush_timeout_s: float = 10.0) -> None:
        self._producer.flush(flush_timeout_s)
        self._committer.shutdown(wait=False)

    def _abort_and_rewind(self, exc: KafkaException | None, in_hand: Sequence[Message] = ()) -> None:
        """Abort the open transaction (if any) and rewind so all of its records, ``in_hand`` and what
        was read after them are read again: nothing lost."""
        if exc is not None:
            err = exc.args[0]
            if not err.txn_requires_abort():
                raise exc  # fatal (e.g. fenced by a newer worker with the same id): stop this worker
        txn, self._txn = self._txn, None
        if txn is not None:
            self._metrics.track_error("aborted_batch")
            log.warning(
                "transaction aborted; rewinding",
                extra={"error": str(exc) if exc else "processing failed", "records": txn.records},
            )
            self._producer.abort_transaction(TXN_TIMEOUT_S)
        self._rewind(in_hand, txn.first if txn is not None else {})
