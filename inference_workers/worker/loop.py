"""``InferenceWorker``: consume -> decode -> predict -> emit, in Kafka transactions.

Detections, dead letters and input offsets are committed atomically (:mod:`.transactional_output`),
so with read-committed consumers every input record yields exactly one detection even across
crashes: a transaction that did not commit is aborted and its records re-read. A transaction spans
the micro-batches of ``commit_interval_ms`` (like Kafka Streams' ``commit.interval.ms``) and is
committed at once when the input runs dry, on a rebalance (:mod:`.rebalance`) and on stop. A new
model version is swapped in between batches.

The commit's round trips to the broker run on a background thread while the next batch is decoded
and inferred; that batch is produced only once the commit is through (a producer has one
transaction at a time), and is read again with the rest if the commit fails.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from fieldstream.health import HealthServer
from fieldstream.kafka.clients import new_consumer, new_producer
from fieldstream.settings import Settings
from inference_workers.metrics import WorkerMetrics
from inference_workers.runtime.model import ModelRuntime
from inference_workers.worker.batches import Batch, BatchDecoder
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.lag import LagReporter
from inference_workers.worker.online_features import OnlineFeatureReader
from inference_workers.worker.reader import BatchReader
from inference_workers.worker.rebalance import Rebalances
from inference_workers.worker.served_model import ServedModel
from inference_workers.worker.transactional_output import TransactionalOutput
from inference_workers.worker.work import WORK

log = logging.getLogger("fieldstream.worker")
#: /healthz fails when the loop has not turned for this long (stuck on a broker, or a batch never ends)
STALL_S = 120.0


class InferenceWorker:
    def __init__(self, settings: Settings, config: WorkerConfig, runtime: ModelRuntime | None = None) -> None:
        self.settings = settings
        self.config = config
        self.work = WORK[config.kind]
        self.metrics = WorkerMetrics(config.kind)
        self.model = ServedModel(settings, config, self.work.model_name, self.metrics, runtime)
        self.health: HealthServer | None = None
        self.last_turn: float | None = None  # monotonic time the loop last turned (liveness)
        self._stop = threading.Event()
        self._reader: BatchReader | None = None  # once started: the consumer side
        self._output: TransactionalOutput | None = None  # once started: the producer side
        self._lag: LagReporter | None = None
        self._features: OnlineFeatureReader | None = None
        self._rebalances = Rebalances(on_revoke=self._before_revoke, on_lost=self._after_loss)

    # ---- lifecycle -----------------------------------------------------------------------------
    def start(self, consumer: Any = None, producer: Any = None) -> None:
        """Serve health, load the model, join the group; ``consumer``, ``producer``: Kafka clients
        to use instead of new ones from the settings (tests)."""
        c = self.config
        if c.metrics_port is not None:
            self.health = HealthServer(
                c.metrics_port, self.metrics.registry, self.liveness, self.readiness, c.metrics_host
            ).start()
        rt = self.model.start()
        txn = {"transactional.id": c.transactional_id, "transaction.timeout.ms": c.transaction_timeout_ms}
        producer = producer or new_producer(self.settings, **txn, **{"linger.ms": 1})
        consumer = consumer or new_consumer(self.settings, c.group)  # joins the group at subscribe
        decoder = BatchDecoder(self.work, self.settings.max_payload_bytes, c.decode_threads)
        reader = BatchReader(consumer, decoder, c.max_batch, self._between_batches)
        self._output = TransactionalOutput(
            producer,
            consumer,
            self.work.output_topic,
            reader.rewind,
            self.metrics,
            lambda: self.model.version,
        )
        self._output.init()
        self._lag = LagReporter(consumer, self.metrics.lag.labels(c.kind))
        self._rebalances.subscribe(consumer, self.work.input_topic)
        self._reader = reader
        if c.attach_features:
            self._features = OnlineFeatureReader(
                self.settings.redis_url, self.work.online_view, self.work.explaining_features
            )
        self.model.watch()
        log.info(
            "worker started",
            extra={"kind": c.kind, "group": c.group, "transactional_id": c.transactional_id}
            | {"model_version": rt.version, "provider": rt.provider, "precision": rt.precision},
        )

    def liveness(self) -> tuple[bool, str]:
        if self.last_turn is None:
            return True, "starting"  # loading a model can take long: no restart for it
        idle = time.monotonic() - self.last_turn
        return idle < STALL_S, f"loop turned {idle:.0f} s ago"

    def readiness(self) -> tuple[bool, str]:
        ready, detail = self.model.readiness()
        if ready and self._reader is None:
            return False, "consumer not started"
        return ready, detail

    @property
    def runtime(self) -> ModelRuntime | None:
        """The model version serving now."""
        return self.model.runtime

    @property
    def processed(self) -> int:
        """Records whose detection (or dead letter) has committed."""
        return self._output.committed if self._output is not None else 0

    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this worker owns now in its consumer group (any thread)."""
        return self._rebalances.owned()

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit it and return (safe from a signal handler)."""
        self._stop.set()

    def close(self) -> None:
        self.model.stop()
        if self._reader:
            self._reader.close()
        if self._output:
            self._output.close()
        if self.health:
            self.health.stop()

    # ---- the loop ------------------------------------------------------------------------------
    def run(self, max_records: int | None = None, idle_exit_s: float | None = None) -> int:
        """Process until :meth:`stop` (or ``max_records`` / ``idle_exit_s`` for tests and benchmarks),
        then commit what is open.

        The next batch is read as soon as this one is in hand, so it decodes on the decoder threads
        while this one runs the model (and while the transaction commits). A batch read ahead is not
        in the transaction: after an abort, a rebalance or a stop it is simply read again.
        """
        reader, output = self._reader, self._output
        assert reader is not None and output is not None, "start() first"
        idle_since = time.monotonic()
        while not self._stop.is_set():
            self.last_turn = time.monotonic()
            if max_records is not None and output.committed + output.pending >= max_records:
                break
            batch = reader.next(self.config.max_wait_ms / 1000)
            if batch.msgs:
                idle_since = time.monotonic()
                rebalances = self._rebalances.count
                reader.read_ahead()
                if self._rebalances.count != rebalances:
                    batch.cancel()  # read before the rebalance: its partitions restart from the commit
                    continue
                self.process_batch(batch)
            drained = not batch.msgs
            if drained or output.due(self.config.commit_interval_ms):
                output.start_commit()
            if drained:
                output.finish_commit()  # nothing else to do meanwhile: readers see it now
            if drained and idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                break
        reader.rewind(())  # the batch read ahead is read again by whoever reads next
        output.commit()
        return self.processed

    def _between_batches(self) -> ModelRuntime:
        """After each read: a new model version swapped in, the lag reported; the version serving."""
        runtime = self.model.maybe_swap()
        assert self._lag is not None
        self._lag.maybe_report()
        return runtime

    def process_batch(self, batch: Batch) -> None:
        """Infer one micro-batch, then emit it inside the open transaction (once the previous one has
        committed); the loop commits when ``commit_interval_ms`` has passed or the input is drained."""
        output, runtime = self._output, batch.runtime  # one version for the whole batch
        assert output is not None
        t0 = time.perf_counter()
        try:
            good, rejected = batch.results()
            t1 = time.perf_counter()
            prediction = runtime.predict([d.model_input for _, d in good])
            features = self._features.latest({d.device_id for _, d in good}) if self._features else {}
        except Exception:
            output.abort(batch.msgs)
            raise
        if not output.finish_commit(batch.msgs):
            return  # the previous transaction aborted: these records are read again after its own
        t2 = time.perf_counter()
        stages = {"decode": (t1 - t0) * 1e3, **prediction.stage_ms}
        observe = self.metrics.end_to_end_ms.labels(self.config.kind).observe
        detections = self.work.detections(good, prediction.items, runtime, stages, features, observe)
        if not output.write(batch.msgs, rejected, detections):
            return  # aborted: read again
        for stage, ms in {**stages, "produce": (time.perf_counter() - t2) * 1e3}.items():
            self.metrics.track_stage(stage, runtime.version, ms)
        self.metrics.track_batch(len(good))

    # ---- rebalances ----------------------------------------------------------------------------
    def _before_revoke(self) -> None:
        # commit what was processed while the partitions are still ours (records read ahead are
        # dropped: every partition restarts from its committed offset)
        assert self._reader is not None and self._output is not None
        self._reader.drop_ahead()
        self._output.commit()

    def _after_loss(self) -> None:
        # the group already gave them to another worker: our transaction may not commit offsets for
        # them any more, so abort it; the new owner re-reads from the last commit
        assert self._reader is not None and self._output is not None
        self._reader.drop_ahead()
        self._output.abort()
