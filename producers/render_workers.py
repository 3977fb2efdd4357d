"""Simulated frames rendered by worker processes (``fieldstream produce frames --render-workers N``).

Rendering and JPEG-encoding a frame costs several times more CPU than publishing it, so with
``FrameRun.render_workers > 1`` the frames are rendered by an
:class:`~producers.process_pool.OrderedProcessPool` and this process only publishes them. Work is
split into :class:`~producers.record_blocks.RecordBlock` s of consecutive frames of one device (the
simulator reuses its tiles inside a block), dealt round-robin to the workers; results come back in
order and are interleaved as in a single process. Every frame is a pure function of its config and
index, so the records are identical for any number of workers.

Each worker builds its own simulators (soil and sprite banks included: a few seconds at start,
in parallel) and renders every plant sprite before its first block. At most ``devices + workers``
blocks are pending (a row of blocks, one per device, plus one per worker), and blocks are sized so
that a row holds about 32 VGA frames: memory stays bounded (a few MB of JPEG) whatever the run length.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial

from producers.config import MAX_DEFAULT_RENDER_WORKERS, MIN_POOLED_FRAMES
from producers.device_runs import FrameRun
from producers.device_simulators import CameraSimulators
from producers.process_pool import OrderedProcessPool
from producers.record_blocks import interleave, record_blocks
from producers.records import Outgoing

ROW_PIXELS = 32 * 640 * 480  # one row of blocks holds about this many pixels ...
MIN_BLOCK_FRAMES = 8  # ... but a block has at least this many frames (tile reuse) unless huge


def _never() -> bool:
    return False


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def default_render_workers(total_frames: int | None = None) -> int:
    """Render workers for a run of ``total_frames`` frames (None = endless): one per CPU, at most
    :data:`~producers.config.MAX_DEFAULT_RENDER_WORKERS`; 1 (in process) for runs under
    :data:`~producers.config.MIN_POOLED_FRAMES`."""
    if total_frames is not None and total_frames < MIN_POOLED_FRAMES:
        return 1
    return min(available_cpus(), MAX_DEFAULT_RENDER_WORKERS)


def block_frames(devices: int, width: int, height: int) -> int:
    """Frames per block: a row of ``devices`` blocks holds about :data:`ROW_PIXELS` pixels, a block
    at least :data:`MIN_BLOCK_FRAMES` frames, but never more than :data:`ROW_PIXELS` pixels."""
    pixels = width * height
    return max(1, min(ROW_PIXELS // pixels, max(MIN_BLOCK_FRAMES, ROW_PIXELS // (devices * pixels))))


def prepared_renderer(run: FrameRun) -> CameraSimulators:
    """A worker's renderer, with the plant sprites of the run already rendered (they are shared by
    every device of one seed)."""
    renderer = CameraSimulators(run)
    renderer.simulator(0).prepare()
    return renderer


def pooled_frames(run: FrameRun, should_stop: Callable[[], bool] | None = None) -> Iterator[Outgoing]:
    """The records of :func:`~producers.simulated.simulated_records` for a frame run, rendered by
    ``run.render_workers`` processes; they end early when ``should_stop()`` turns true while a
    result is awaited (e.g. during the workers' start-up). The pool is shut down when the iterator
    ends or is closed."""
    run = run.started()
    CameraSimulators(run)  # bad options fail here, not in the workers
    workers = run.render_workers
    blocks = record_blocks(run.devices, run.count, block_frames(run.devices, run.width, run.height))
    with OrderedProcessPool(partial(prepared_renderer, run), workers) as pool:
        rendered = pool.ordered(blocks, run.devices + workers, should_stop or _never)
        yield from interleave(rendered, run.devices)
