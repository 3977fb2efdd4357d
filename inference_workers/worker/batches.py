"""Micro-batches of input records and their decoding on the decoder threads.

A :class:`Batch` is decoded with the model version that will run it, started as soon as it is read
(:meth:`BatchDecoder.start`), so decoding overlaps the previous batch's inference and commit. PIL and
libsndfile release the GIL, so the threads decode in parallel. A record whose contract is broken is
kept with its :class:`~fieldstream.contracts.ContractError`, to be dead-lettered in its batch's
transaction.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from fieldstream.contracts import ContractError
from inference_workers.runtime.model import ModelRuntime
from inference_workers.worker.work import Decoded, Work


@dataclass
class Batch:
    """Records read together, and their decoding under way on the decoder threads."""

    msgs: list[Message]
    runtime: ModelRuntime  # the version that decodes and runs them
    decoded: list[Future[Decoded | ContractError]]

    def cancel(self) -> None:
        for future in self.decoded:
            future.cancel()

    def results(self) -> tuple[list[tuple[Message, Decoded]], list[tuple[Message, ContractError]]]:
        """Wait for the decoding: (the records decoded, the records rejected with the reason)."""
        good: list[tuple[Message, Decoded]] = []
        rejected: list[tuple[Message, ContractError]] = []
        for msg, future in zip(self.msgs, self.decoded, strict=True):
            item = future.result()
            if isinstance(item, ContractError):
                rejected.append((msg, item))
            else:
                good.append((msg, item))
        return good, rejected


class BatchDecoder:
    def __init__(self, work: Work[Any], max_payload: int, threads: int) -> None:
        self.work = work
        self.max_payload = max_payload
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="decode")

    def start(self, msgs: list[Message], runtime: ModelRuntime) -> Batch:
        """``msgs`` as a batch, their decoding with ``runtime`` started."""
        return Batch(msgs, runtime, [self._pool.submit(self._decode, m, runtime) for m in msgs])

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)

    def _decode(self, msg: Message, runtime: ModelRuntime) -> Decoded | ContractError:
        """Contract + media decoding of one record; a contract error is returned, not raised."""
        try:
            return self.work.decode(msg.value(), msg.headers(), self.max_payload, runtime)
        except ContractError as exc:
            return exc
