"""Hot swap: watch ``models.events.v1`` and load a newly promoted (or rolled-back) version beside
the serving one; the worker switches between batches, so every detection names the version that
made it and no record is lost or doubled during a swap."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from confluent_kafka import OFFSET_END, TopicPartition

from fieldstream.contracts import ContractError, decode_message
from fieldstream.kafka.clients import new_consumer, private_group
from fieldstream.settings import Settings
from fieldstream.topics import MODELS_EVENTS
from inference_workers.runtime.model import ModelRuntime

log = logging.getLogger("fieldstream.worker.hotswap")
SWAP_EVENTS = ("promoted", "rolled_back")


class ModelWatcher(threading.Thread):
    """Background thread: on a swap event for ``model_name``, ``load(version)`` and either park the
    result for a worker to pick up between batches (:meth:`take`) or hand it to ``on_loaded`` (the
    model server swaps at once: each request reads the current runtime once)."""

    def __init__(
        self,
        settings: Settings,
        model_name: str,
        load: Callable[[str], ModelRuntime],
        on_loaded: Callable[[ModelRuntime], None] | None = None,
    ) -> None:
        super().__init__(name=f"watch-{model_name}", daemon=True)
        self.model_name = model_name
        self._load = load
        self._settings = settings
        self._on_loaded = on_loaded
        self._pending: ModelRuntime | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once the watcher reads from the topic's end

    def take(self) -> ModelRuntime | None:
        with self._lock:
            runtime, self._pending = self._pending, None
            return runtime

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        consumer = new_consumer(self._settings, private_group("model-watch"))
        meta = consumer.list_topics(MODELS_EVENTS, timeout=10).topics[MODELS_EVENTS]
        consumer.assign([TopicPartition(MODELS_EVENTS, p, OFFSET_END) for p in meta.partitions])
        try:
            while not self._stop.is_set():
                msg = consumer.poll(0.5)
                self.ready.set()
                if msg is None or msg.error() or msg.key() != self.model_name.encode():
                    continue
                try:
                    event = decode_message(MODELS_EVENTS, msg.value())
                except ContractError as exc:
                    log.warning("bad model event ignored", extra={"error": str(exc), "offset": msg.offset()})
                    continue
                if event["event"] in SWAP_EVENTS:
                    self._load_version(event["version"])
        finally:
            consumer.close()

    def _load_version(self, version: str) -> None:
        try:
            runtime = self._load(version)
        except Exception:
            log.exception(
                "new model version could not be loaded; keeping the current one",
                extra={"model": self.model_name, "version": version},
            )
            return
        if self._on_loaded is not None:
            self._on_loaded(runtime)
        else:
            with self._lock:
                self._pending = runtime
        log.info(
            "new model version loaded, swapping at the next batch",
            extra={"model": self.model_name, "version": version},
        )
