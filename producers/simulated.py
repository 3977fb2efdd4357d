"""The records of a simulated run, ready to send: :func:`simulated_records`.

Devices are interleaved round-robin (record 0 of every device, then record 1, ...), each record
with its ground truth unless ``run.labels`` is off. Blocks of records are rendered by the run's
:class:`~producers.device_simulators.DeviceSimulators` in this process or, for a
:class:`~producers.device_runs.FrameRun` with ``render_workers > 1``, in worker processes
(:mod:`producers.render_workers`); the records are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from producers.device_runs import FrameRun, SimulatedRun
from producers.device_simulators import device_simulators
from producers.record_blocks import interleave, record_blocks
from producers.records import Outgoing
from producers.render_workers import pooled_frames


def simulated_records(run: SimulatedRun, should_stop: Callable[[], bool] | None = None) -> Iterator[Outgoing]:
    """Every record of ``run`` (``start_time_ms`` None: from now); ``should_stop`` ends a pooled run
    early while it waits for the workers (see :func:`~producers.render_workers.pooled_frames`)."""
    run = run.started()
    if isinstance(run, FrameRun) and run.render_workers > 1:
        yield from pooled_frames(run, should_stop)
        return
    render = device_simulators(run)
    yield from interleave(map(render, record_blocks(run.devices, run.per_device, 1)), run.devices)
