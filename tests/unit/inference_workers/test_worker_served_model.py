"""The model a worker serves: the given version tracked, a version the watcher loaded swapped in
(once, and only when it differs), readiness naming version, precision and provider."""

from __future__ import annotations

from worker_fakes import StandInModel

from fieldstream.settings import load_settings
from inference_workers.metrics import WorkerMetrics
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.served_model import ServedModel


class Watcher:
    def __init__(self) -> None:
        self.loaded: StandInModel | None = None
        self.stopped = False

    def take(self) -> StandInModel | None:
        runtime, self.loaded = self.loaded, None
        return runtime

    def stop(self) -> None:
        self.stopped = True


def served(tmp_path, runtime=None, **config) -> tuple[ServedModel, WorkerMetrics]:
    metrics = WorkerMetrics("vision")
    settings = load_settings({}, data_dir=tmp_path)
    model = ServedModel(settings, WorkerConfig("vision", **config), "vision-detector", metrics, runtime)
    return model, metrics


def test_a_version_the_watcher_loaded_is_swapped_in_between_batches(tmp_path):
    first = StandInModel(version="7")
    model, metrics = served(tmp_path, first)
    assert model.start() is first and model.version == "7"
    watcher = Watcher()
    model.watcher = watcher  # type: ignore[assignment]
    assert model.maybe_swap() is first  # nothing loaded
    watcher.loaded = StandInModel(version="7")  # the same version again: no swap
    assert model.maybe_swap() is first
    newer = StandInModel(version="8")
    watcher.loaded = newer
    assert model.maybe_swap() is newer and model.runtime is newer and model.version == "8"
    assert model.maybe_swap() is newer
    swaps = metrics.registry.get_sample_value("fieldstream_worker_model_swaps_total", {"kind": "vision"})
    assert swaps == 1
    info = metrics.registry.get_sample_value(
        "fieldstream_worker_model_info",
        {"kind": "vision", "name": "vision-detector", "version": "8", "provider": "CPUExecutionProvider"}
        | {"precision": "fp32"},
    )
    assert info == 1
    assert model.readiness() == (True, "vision-detector v8 (fp32) on CPUExecutionProvider")
    model.stop()
    assert watcher.stopped


def test_not_ready_before_a_version_is_loaded_and_no_watcher_for_a_fixed_model(tmp_path):
    model, _ = served(tmp_path, model_ref="/models/pinned.onnx")
    assert model.readiness() == (False, "model not loaded") and model.version == ""
    model.watch()  # a path serves one version for good
    assert model.watcher is None
    model.stop()
