"""``ServedModel``: the model version a worker runs, loaded at start and swapped between batches.

The champion (or ``WorkerConfig.model_ref``) is loaded at start. When the registry promotes or rolls
back a version, the :class:`~inference_workers.worker.hotswap.ModelWatcher` loads it beside the one
serving; :meth:`ServedModel.maybe_swap` switches to it between batches, so every detection names the
version that made it. A ``.onnx`` path (or ``watch_models=False``) serves one version for good.
"""

from __future__ import annotations

import logging

from fieldstream.settings import Settings
from inference_workers.metrics import WorkerMetrics
from inference_workers.runtime import load_runtime
from inference_workers.runtime.model import ModelRuntime
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.hotswap import ModelWatcher

log = logging.getLogger("fieldstream.worker")


class ServedModel:
    def __init__(
        self,
        settings: Settings,
        config: WorkerConfig,
        model_name: str,
        metrics: WorkerMetrics,
        runtime: ModelRuntime | None = None,  # already loaded (tests, benchmarks): not loaded again
    ) -> None:
        self.settings = settings
        self.config = config
        self.model_name = model_name
        self.metrics = metrics
        self.runtime = runtime
        self.watcher: ModelWatcher | None = None

    def load(self, version_or_alias: str | None = None) -> ModelRuntime:
        """A version loaded (not swapped in): the configured one, or ``version_or_alias``."""
        ref = self.config.resolved_model_ref(self.model_name)
        if version_or_alias is not None:
            ref = f"models:/{self.model_name}/{version_or_alias}"
        s = self.settings
        runtime = load_runtime(ref, s.mlflow_tracking_uri, s.model_download_dir, s.model_precision)
        self.metrics.track_model(runtime)
        return runtime

    def start(self) -> ModelRuntime:
        """The version to serve first (loaded now unless given)."""
        if self.runtime is None:
            self.runtime = self.load()
        else:
            self.metrics.track_model(self.runtime)
        return self.runtime

    def watch(self) -> None:
        """Follow the registry's promotions and rollbacks (unless configured not to, or a path)."""
        if self.config.watch_models and self.config.model_ref is None:
            self.watcher = ModelWatcher(self.settings, self.model_name, self.load)
            self.watcher.start()

    def maybe_swap(self) -> ModelRuntime:
        """Switch to the version the watcher loaded, if a new one is waiting; the one serving now."""
        new = self.watcher.take() if self.watcher else None
        current = self.runtime
        assert current is not None, "start() first"
        if new is not None and new.version != current.version:
            log.info("model swapped", extra={"from_version": current.version, "to_version": new.version})
            self.runtime = current = new
            self.metrics.swaps.labels(self.config.kind).inc()
            self.metrics.track_model(new)
        return current

    @property
    def version(self) -> str:
        return self.runtime.version if self.runtime is not None else ""

    def readiness(self) -> tuple[bool, str]:
        rt = self.runtime
        if rt is None:
            return False, "model not loaded"
        return True, f"{rt.name} v{rt.version} ({rt.precision}) on {rt.provider}"

    def stop(self) -> None:
        if self.watcher:
            self.watcher.stop()
