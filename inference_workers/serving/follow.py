"""Keep a served model on the registry's ``champion``.

The fast path is the workers' one: a :class:`~inference_workers.worker.hotswap.ModelWatcher`
swaps on every ``promoted`` / ``rolled_back`` event on ``models.events.v1``. The alias in the
registry is the truth, though, and an event can be missed (the watcher reads from the topic's end,
so a promotion between the server's first load and the watcher's start is not seen; an alias moved
in the MLflow UI publishes nothing). So the follower also compares the champion with the version
served once the watcher reads, then every ``reconcile_every_s``, and swaps when they differ.
Kafka and MLflow may still be starting (``stack up`` starts them side by side): both are waited for.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from fieldstream.kafka.config import admin_config
from fieldstream.model_names import CHAMPION
from fieldstream.settings import Settings
from fieldstream.topics import MODELS_EVENTS
from inference_workers.runtime.model import ModelRuntime
from inference_workers.serving.model import FieldStreamModel
from inference_workers.worker.hotswap import ModelWatcher

log = logging.getLogger("fieldstream.serving")


class ChampionFollower:
    def __init__(
        self,
        settings: Settings,
        model: FieldStreamModel,
        load_version: Callable[[str], ModelRuntime],
        reconcile_every_s: float = 60.0,
        retry_every_s: float = 5.0,
        wait_for_kafka_s: float = 600.0,
    ) -> None:
        self.settings = settings
        self.model = model
        self.load_version = load_version
        self.reconcile_every_s = reconcile_every_s
        self.retry_every_s = retry_every_s
        self.wait_for_kafka_s = wait_for_kafka_s
        self.watcher = ModelWatcher(settings, model.name, load_version, on_loaded=model.swap)
        self.reconciled = threading.Event()  # set after the first successful check against the registry

    def start(self) -> None:
        threading.Thread(target=self._run, name=f"follow-{self.model.name}", daemon=True).start()

    def _run(self) -> None:
        if self._wait_for_kafka():  # the watcher gives up when the broker is not there at its start
            self.watcher.start()
            self.watcher.ready.wait(self.wait_for_kafka_s)
        while True:
            ok = self.reconcile()
            time.sleep(self.reconcile_every_s if ok else self.retry_every_s)

    def _wait_for_kafka(self) -> bool:
        admin = AdminClient(admin_config(self.settings, log_level=0))
        deadline = time.monotonic() + self.wait_for_kafka_s
        while time.monotonic() < deadline:
            try:
                topic = admin.list_topics(MODELS_EVENTS, timeout=5).topics.get(MODELS_EVENTS)
                if topic is not None and topic.error is None and topic.partitions:
                    return True  # the broker is up and the topic exists (`stack up` creates it last)
            except KafkaException:
                pass
            log.warning(
                "waiting for kafka and models.events.v1; promotions are followed from then on",
                extra={"model": self.model.name},
            )
            time.sleep(self.retry_every_s)
        return False

    def reconcile(self) -> bool:
        """Serve the registry's champion if another version is served; False when that failed."""
        from model_contract.registry import ModelRegistry  # mlflow: only imported where the registry is used

        generation = self.model.generation  # a swap by the watcher meanwhile wins over this one
        try:
            champion = ModelRegistry(self.settings.mlflow_tracking_uri).by_alias(self.model.name, CHAMPION)
            served = self.model.runtime.version if self.model.runtime else None
            if champion is not None and champion.version != served:
                swapped = self.model.swap(self.load_version(champion.version), if_generation=generation)
                log.info(
                    "caught up with the registry's champion",
                    extra={"model": self.model.name, "version": champion.version, "swapped": swapped},
                )
        except Exception as exc:  # MLflow not reachable yet, or the version failed to load
            log.warning(
                "could not check the champion; retrying",
                extra={"model": self.model.name, "error": str(exc)},
            )
            return False
        self.reconciled.set()
        return True
