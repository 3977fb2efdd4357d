"""Frames rendered by worker processes (producers/render_workers.py, producers/process_pool.py):
the same records for any number of workers, bounded blocks, and the pool shut down on every exit."""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import replace
from functools import partial
from itertools import islice

import pytest
from fake_kafka import FakeMessage

from app.cli import build_parser
from fieldstream.settings import load_settings
from fieldstream.topics import FRAMES_RAW, LABELS
from producers import config, render_workers
from producers.device_runs import FrameRun
from producers.errors import WorkerError
from producers.process_pool import OrderedProcessPool
from producers.publish_loop import publish_all
from producers.publisher import MediaPublisher
from producers.records import Outgoing
from producers.render_workers import block_frames, default_render_workers, pooled_frames
from producers.shutdown import StopSignal
from producers.simulated import simulated_records

SMALL = FrameRun(
    devices=3, device_prefix="w", count=21, width=160, height=120, seed=9, start_time_ms=1_790_000_000_000
)


def _workers_alive() -> list[mp.process.BaseProcess]:
    return [p for p in mp.active_children() if p.name.startswith("fieldstream-worker")]


def _flat(items: list[Outgoing]) -> list[tuple]:
    return [
        (i.topic, i.record.key, i.record.value, i.record.headers, i.label.key, i.label.value, i.label.headers)
        for i in items
        if i.label is not None
    ]


def test_block_size_bounds_the_pixels_in_flight() -> None:
    assert block_frames(1, 640, 480) == 32
    assert block_frames(4, 640, 480) == 8
    assert block_frames(100, 640, 480) == render_workers.MIN_BLOCK_FRAMES  # tile reuse inside a block
    assert block_frames(1, 4096, 4096) == 1  # huge frames: one at a time
    assert 1 <= default_render_workers() <= config.MAX_DEFAULT_RENDER_WORKERS
    assert default_render_workers(None) == default_render_workers(config.MIN_POOLED_FRAMES)
    assert default_render_workers(config.MIN_POOLED_FRAMES - 1) == 1  # start-up not won back


def test_render_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="render_workers"):
        FrameRun(render_workers=0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["produce", "frames", "--render-workers", "0"])


def test_two_workers_give_the_same_records_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 8 frames: 3 devices x 21 frames = 9 blocks (the last row of 5 frames), dealt to 2
    # workers, so every device hops between workers and the last row is short.
    monkeypatch.setattr(render_workers, "ROW_PIXELS", 10 * 160 * 120)
    assert block_frames(SMALL.devices, SMALL.width, SMALL.height) == 8
    one = list(simulated_records(SMALL))
    two = list(simulated_records(replace(SMALL, render_workers=2)))
    assert len(one) == len(two) == 3 * 21
    assert _flat(two) == _flat(one)
    assert [i.record.key for i in two[:4]] == [b"w-0", b"w-1", b"w-2", b"w-0"]
    assert not _workers_alive()


def _instant_publisher(on_produce: object) -> MediaPublisher:
    class InstantProducer:
        """Delivers every record at once and calls ``on_produce`` after each."""

        def __init__(self, config: dict) -> None:
            self.config = config

        def produce(self, topic, value=None, key=None, headers=None, on_delivery=None) -> None:
            on_delivery(None, FakeMessage(topic, value))
            on_produce()

        def poll(self, timeout: float = 0.0) -> int:
            return 0

        def flush(self, timeout: float = 0.0) -> int:
            return 0

        def __len__(self) -> int:
            return 0

    return MediaPublisher(load_settings({}, kafka_bootstrap="127.0.0.1:1"), producer_factory=InstantProducer)


def test_an_early_stop_shuts_the_pool_down_before_the_flush() -> None:
    stop = StopSignal()
    produced = []

    def on_produce() -> None:
        produced.append(1)
        if len(produced) == 10:  # 5 frames + 5 labels
            stop.set()

    run = replace(SMALL, count=None, render_workers=2)  # endless: only the stop ends it
    source = simulated_records(run, should_stop=stop.is_set)
    summary = publish_all("frames", source, _instant_publisher(on_produce), stop=stop)
    assert summary.stopped_by == "requested" and summary.ok
    assert summary.stats.topics[FRAMES_RAW].sent == summary.stats.topics[LABELS].sent == 5
    assert not _workers_alive()


def test_a_stop_during_the_workers_start_up_ends_the_frames_at_once() -> None:
    stop = StopSignal()
    stop.set()
    assert list(simulated_records(replace(SMALL, render_workers=2), should_stop=stop.is_set)) == []
    assert not _workers_alive()


def test_closing_the_frames_early_shuts_the_pool_down() -> None:
    frames = simulated_records(replace(SMALL, count=None, render_workers=2))
    assert len(list(islice(frames, 4))) == 4
    assert len(_workers_alive()) == 2
    frames.close()
    assert not _workers_alive()


def test_pool_results_come_in_submission_order() -> None:
    factory = partial(partial, pow, 2)  # each worker's handler: task -> 2 ** task
    with OrderedProcessPool(factory, workers=3) as pool:
        assert list(pool.ordered(range(1, 40), window=4)) == [2**i for i in range(1, 40)]
        processes = pool.processes
    assert not any(p.is_alive() for p in processes)


def test_a_failing_worker_raises_with_its_traceback() -> None:
    with (
        OrderedProcessPool(partial(int, "not a number"), workers=1) as pool,
        pytest.raises(WorkerError, match="invalid literal for int"),
    ):
        list(pool.ordered([1, 2], window=2))
    assert not _workers_alive()


def test_bad_options_fail_before_any_worker_starts() -> None:
    with pytest.raises(ValueError, match="jpeg_quality"):
        next(pooled_frames(replace(SMALL, jpeg_quality=0, render_workers=2)))
    assert not _workers_alive()
