"""``InferenceWorker``: consume -> decode -> infer -> produce, in Kafka transactions.

Detections, dead letters and input offsets are committed atomically (``send_offsets_to_transaction``),
so with read-committed consumers every input record yields exactly one detection even across
crashes: a transaction that did not commit is aborted and its records re-read. A transaction spans
the micro-batches of ``commit_interval_ms`` (like Kafka Streams' ``commit.interval.ms``) and is
committed at once when the input runs dry, on a rebalance and on stop. A new model version is
swapped in between batches.

The commit's round trips to the broker run on a background thread while the next batch is decoded
and inferred; that batch is produced only once the commit is through (a producer has one
transaction at a time), and is read again with the rest if the commit fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from fieldstream.contracts import ContractError, encode_message
from fieldstream.kafka.config import consumer_config, producer_config
from fieldstream.kafka.routing import reject_to_deadletter
from fieldstream.settings import Settings
from inference_workers.health import serve_health
from inference_workers.metrics import WorkerMetrics
from inference_workers.runtime import load_runtime
from inference_workers.runtime.model import ModelRuntime
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.hotswap import ModelWatcher
from inference_workers.worker.kinds import KINDS, Decoded, WorkerKind
from inference_workers.worker.online_features import OnlineFeatureReader
from inference_workers.worker.transaction import OpenTransaction, first_offsets

log = logging.getLogger("fieldstream.worker")
TXN_TIMEOUT_S = 30.0


@dataclass
class _Commit:
    """A transaction being committed on the committer thread (the future gives the commit's ms)."""

    txn: OpenTransaction
    done: Future[float]


@dataclass
class _Batch:
    """Records read together, and their decoding under way on the decoder threads."""

    msgs: list[Message]
    runtime: ModelRuntime  # the version that decodes and runs them
    decoded: list[Future[Decoded | ContractError]]

    def cancel(self) -> None:
        for future in self.decoded:
            future.cancel()


class InferenceWorker:
    def __init__(self, settings: Settings, config: WorkerConfig, runtime: ModelRuntime | None = None) -> None:
        self.settings = settings
        self.config = config
        self.kind: WorkerKind = KINDS[config.kind]
        self.metrics = WorkerMetrics(config.kind)
        self.runtime = runtime
        self.processed = 0
        self._stop = threading.Event()
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._watcher: ModelWatcher | None = None
        self._features: OnlineFeatureReader | None = None
        self._last_lag_check = 0.0
        self._txn: OpenTransaction | None = None  # open: producing
        self._committing: _Commit | None = None  # closed, committing on the committer thread
        self._ahead: _Batch | None = None  # read, decoding, not yet in the transaction
        self._rebalances = 0
        self._assigned: set[tuple[str, int]] = set()
        self._assignment_lock = threading.Lock()
        self._decoder = ThreadPoolExecutor(config.decode_threads, thread_name_prefix="decode")
        self._committer = ThreadPoolExecutor(1, thread_name_prefix="commit")
        self.health_server: Any = None

    # ---- lifecycle -----------------------------------------------------------------------------
    def load_model(self, version_or_alias: str | None = None) -> ModelRuntime:
        ref = self.config.resolved_model_ref(self.kind.model_name)
        if version_or_alias is not None:
            ref = f"models:/{self.kind.model_name}/{version_or_alias}"
        runtime = load_runtime(
            ref,
            self.settings.mlflow_tracking_uri,
            self.settings.model_download_dir,
            self.settings.model_precision,
        )
        self.metrics.track_model(runtime)
        return runtime

    def start(self) -> None:
        if self.config.metrics_port is not None:
            self.health_server = serve_health(
                self.config.metrics_port, self.metrics.registry, self.readiness, self.config.metrics_host
            )
        if self.runtime is None:
            self.runtime = self.load_model()
        else:
            self.metrics.track_model(self.runtime)
        self._producer = Producer(
            producer_config(
                self.settings,
                **{
                    "transactional.id": self.config.transactional_id,
                    "transaction.timeout.ms": self.config.transaction_timeout_ms,
                    "linger.ms": 1,
                },
            )
        )
        self._producer.init_transactions(TXN_TIMEOUT_S)
        self._consumer = Consumer(consumer_config(self.settings, self.config.group))
        self._consumer.subscribe(
            [self.kind.input_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        if self.config.attach_features:
            self._features = OnlineFeatureReader(
                self.settings.redis_url, self.kind.online_view, self.kind.explaining_features
            )
        if self.config.watch_models and self.config.model_ref is None:
            self._watcher = ModelWatcher(self.settings, self.kind.model_name, self.load_model)
            self._watcher.start()
        log.info(
            "worker started",
            extra={
                "kind": self.config.kind,
                "group": self.config.group,
                "transactional_id": self.config.transactional_id,
                "model_version": self.runtime.version,
                "provider": self.runtime.provider,
                "precision": self.runtime.precision,
            },
        )

    def readiness(self) -> tuple[bool, str]:
        if self.runtime is None:
            return False, "model not loaded"
        if self._consumer is None:
            return False, "consumer not started"
        rt = self.runtime
        return True, f"{rt.name} v{rt.version} ({rt.precision}) on {rt.provider}"

    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this worker owns now in its consumer group (safe from any
        thread: kept from the rebalance callbacks; calling into the consumer while another thread is
        inside ``consume`` can block)."""
        with self._assignment_lock:
            return sorted(self._assigned)

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._assignment_lock:
            self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        log.info("partitions assigned", extra={"partitions": [tp.partition for tp in partitions]})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # called inside consume(), between batches: commit what the open transaction processed while
        # the partitions are still ours, so their next owner starts exactly after it; records read
        # but not processed are dropped (the loop sees the rebalance count change)
        self._rebalances += 1
        self._drop_read_ahead(rewind=False)
        self._commit()
        self._forget(partitions, "partitions revoked")

    def _on_lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # the group already gave them to another worker: our open transaction may not commit offsets
        # for them any more, so abort it; the new owner re-reads from the last commit
        self._rebalances += 1
        self._drop_read_ahead(rewind=False)
        self._finish_commit()
        if self._txn is not None:
            self._abort_and_rewind(None)
        self._forget(partitions, "partitions lost")

    def _forget(self, partitions: list[TopicPartition], event: str) -> None:
        with self._assignment_lock:
            self._assigned -= {(tp.topic, tp.partition) for tp in partitions}
        log.info(event, extra={"partitions": [tp.partition for tp in partitions]})

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit it and return (safe from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        if self._watcher:
            self._watcher.stop()
        if self._consumer:
            self._consumer.close()
        if self._producer:
            self._producer.flush(10)
        if self.health_server:
            self.health_server.shutdown()
        self._decoder.shutdown(wait=False)
        self._committer.shutdown(wait=False)

    # ---- the loop ------------------------------------------------------------------------------
    def run(self, max_records: int | None = None, idle_exit_s: float | None = None) -> int:
        """Process until :meth:`stop` (or ``max_records`` / ``idle_exit_s`` for tests and benchmarks),
        then commit what is open.

        The next batch is read as soon as this one is in hand, so it decodes on the decoder threads
        while this one runs the model (and while the transaction commits). A batch read ahead is not
        in the transaction: after an abort, a rebalance or a stop it is simply read again.
        """
        assert self._consumer is not None
        idle_since = time.monotonic()
        while not self._stop.is_set():
            if max_records is not None and self.processed + self._pending() >= max_records:
                break
            batch, self._ahead = self._ahead, None
            if batch is None or not batch.msgs:
                batch = self._next_batch(self.config.max_wait_ms / 1000)
            if batch.msgs:
                idle_since = time.monotonic()
                rebalances = self._rebalances
                self._ahead = self._next_batch(0.0)  # whatever is fetched already
                if self._rebalances != rebalances:
                    batch.cancel()  # read before the rebalance: its partitions restart from the commit
                    continue
                self.process_batch(batch)
            drained = not batch.msgs
            if self._txn is not None and (drained or self._txn.age_ms() >= self.config.commit_interval_ms):
                self._start_commit()
            if drained:
                self._finish_commit()  # nothing else to do meanwhile: readers see it now
            if drained and idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                break
        self._drop_read_ahead(rewind=True)
        self._commit()
        return self.processed

    def _drop_read_ahead(self, rewind: bool) -> None:
        """Forget the batch read ahead; ``rewind``: seek back so its records are read again (not
        needed after a rebalance, where every partition restarts from its committed offset)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead.msgs:
            ahead.cancel()
            if rewind:
                self._seek(first_offsets(ahead.msgs))

    def _next_batch(self, wait_s: float) -> _Batch:
        """Up to ``max_batch`` records (waiting at most ``wait_s``), their decoding started on the
        decoder threads with the model version that will run them (swapped in here, between batches)."""
        assert self._consumer is not None
        msgs = [m for m in self._consumer.consume(self.config.max_batch, wait_s) if not self._is_error(m)]
        self._maybe_swap()
        self._maybe_report_lag()
        runtime = self.runtime
        assert runtime is not None
        return _Batch(msgs, runtime, [self._decoder.submit(self._decode, m, runtime) for m in msgs])

    def _pending(self) -> int:
        """Records processed but not committed yet (open or committing)."""
        committing = self._committing.txn.records if self._committing is not None else 0
        return committing + (self._txn.records if self._txn is not None else 0)

    def _is_error(self, msg: Message) -> bool:
        if msg.error() is None:
            return False
        log.warning("consumer error", extra={"error": str(msg.error())})
        return True

    def _decode(self, msg: Message, runtime: ModelRuntime) -> Decoded | ContractError:
        """Contract + media decoding of one record (on the decoder threads: PIL and libsndfile release
        the GIL); a contract error is returned, to be dead-lettered in the batch's transaction."""
        try:
            return self.kind.decode(
                msg.value(), msg.headers(), self.settings.max_payload_bytes, runtime.decode
            )
        except ContractError as exc:
            return exc

    def _maybe_swap(self) -> None:
        new = self._watcher.take() if self._watcher else None
        if new is not None and self.runtime is not None and new.version != self.runtime.version:
            log.info("model swapped", extra={"from_version": self.runtime.version, "to_version": new.version})
            self.runtime = new
            self.metrics.swaps.labels(self.config.kind).inc()
            self.metrics.track_model(new)

    def process_batch(self, batch: _Batch) -> None:
        """Infer one micro-batch, then produce it inside the open transaction (begun if none is, once
        the previous one has committed); the loop commits when ``commit_interval_ms`` has passed or
        the input is drained."""
        assert self._producer is not None and self._consumer is not None
        msgs, runtime = batch.msgs, batch.runtime  # one version for the whole batch
        t0 = time.perf_counter()
        try:
            good: list[tuple[Message, Decoded]] = []
            rejected: list[tuple[Message, ContractError]] = []
            for msg, future in zip(msgs, batch.decoded, strict=True):
                item = future.result()
                if isinstance(item, ContractError):
                    rejected.append((msg, item))
                else:
                    good.append((msg, item))
            t1 = time.perf_counter()
            prediction = runtime.predict([d.model_input for _, d in good])
            features = self._features.latest({d.device_id for _, d in good}) if self._features else {}
        except Exception:
            if self._finish_commit(msgs):  # (a failed commit has rewound everything already)
                self._abort_and_rewind(None, msgs)
            raise
        if not self._finish_commit(msgs):
            return  # the previous transaction aborted: these records are read again after its own
        t2 = time.perf_counter()
        if self._txn is None:
            self._producer.begin_transaction()
            self._txn = OpenTransaction()
        self._txn.add(msgs)
        try:
            for msg, error in rejected:
                reject_to_deadletter(msg, error, self._producer)  # dead letters join the transaction
                self.metrics.track_error("deadletter")
            stages = {"decode": (t1 - t0) * 1e3, **prediction.stage_ms}
            now_ms = int(time.time() * 1000)
            for (msg, item), results in zip(good, prediction.items, strict=True):
                # a device clock ahead of ours (or a simulated future capture time) is no negative latency
                latency = {**stages, "end_to_end": float(max(0, now_ms - item.captured_at))}
                message = self.kind.message(
                    item,
                    results,
                    (runtime.name, runtime.version),
                    now_ms,
                    latency,
                    features.get(item.device_id),
                )
                self._producer.produce(
                    self.kind.output_topic,
                    key=msg.key(),
                    value=encode_message(self.kind.output_topic, message),
                )
                self.metrics.end_to_end_ms.labels(self.config.kind).observe(max(0, now_ms - item.captured_at))
        except KafkaException as exc:
            self._abort_and_rewind(exc)
            return
        except Exception:
            self._abort_and_rewind(None)
            raise
        t3 = time.perf_counter()
        for stage, ms in {**stages, "produce": (t3 - t2) * 1e3}.items():
            self.metrics.track_stage(stage, runtime.version, ms)
        self.metrics.track_batch(len(good))

    def _commit(self) -> bool:
        """Commit what was processed (the transaction committing, then the open one) and wait for
        it; False when it had to be aborted: its records, and the batch read ahead, are read again."""
        if not self._finish_commit():
            return False
        self._start_commit()
        return self._finish_commit()

    def _start_commit(self) -> None:
        """Close the open transaction (if any) and commit it on the committer thread: its
        detections, dead letters and input offsets. Nothing may be produced until it is through."""
        if self._txn is None:
            return
        assert self._producer is not None and self._consumer is not None and self._committing is None
        txn, self._txn = self._txn, None
        offsets, group = txn.commit_offsets(), self._consumer.consumer_group_metadata()
        producer = self._producer

        def commit() -> float:
            t0 = time.perf_counter()
            producer.send_offsets_to_transaction(offsets, group, TXN_TIMEOUT_S)
            producer.commit_transaction(TXN_TIMEOUT_S)
            return (time.perf_counter() - t0) * 1e3

        self._committing = _Commit(txn, self._committer.submit(commit))

    def _finish_commit(self, in_hand: Sequence[Message] = ()) -> bool:
        """Wait for the commit under way (if any). False when it failed and was aborted: its records,
        ``in_hand`` (read after them, not produced yet) and the batch read ahead are read again."""
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
        self.processed += committing.txn.records
        self.metrics.track_stage("commit", self.runtime.version if self.runtime else "", ms)
        return True

    def _abort_and_rewind(self, exc: KafkaException | None, in_hand: Sequence[Message] = ()) -> None:
        """Abort the open transaction (if any) and seek back so all of its records, ``in_hand`` and
        the batch read ahead after them are read again: nothing lost."""
        assert self._producer is not None
        if exc is not None:
            err = exc.args[0]
            if not err.txn_requires_abort():
                raise exc  # fatal (e.g. fenced by a newer worker with the same id): stop this worker
        txn, self._txn = self._txn, None
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.cancel()
        again = [*in_hand, *(ahead.msgs if ahead is not None else [])]
        if txn is None:
            self._seek(first_offsets(again))
            return
        self.metrics.track_error("aborted_batch")
        log.warning(
            "transaction aborted; rewinding",
            extra={"error": str(exc) if exc else "processing failed", "records": txn.records},
        )
        self._producer.abort_transaction(TXN_TIMEOUT_S)
        self._seek(txn.rewind_offsets(again))

    def _seek(self, positions: list[TopicPartition]) -> None:
        assert self._consumer is not None
        for tp in positions:
            try:
                self._consumer.seek(tp)
            except KafkaException:
                continue  # no longer ours after a rebalance: the new owner reads from the commit

    def _maybe_report_lag(self) -> None:
        now = time.monotonic()
        if self._consumer is None or now - self._last_lag_check < 5.0:
            return
        self._last_lag_check = now
        lag = 0
        try:
            for tp in self._consumer.position(self._consumer.assignment()):
                _low, high = self._consumer.get_watermark_offsets(tp, timeout=2, cached=True)
                if tp.offset >= 0:
                    lag += max(0, high - tp.offset)
        except KafkaException:
            return
        self.metrics.lag.labels(self.config.kind).set(lag)
