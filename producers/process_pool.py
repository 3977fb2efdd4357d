"""An ordered pool of worker processes: :class:`OrderedProcessPool`.

Each worker builds one handler (``factory()``, e.g. a renderer holding simulators) and then applies
it to the tasks it is given. Tasks go round-robin to per-worker FIFO queues and the results come back
**in submission order** (the next result is always read from the worker that got the oldest pending
task), so the output does not depend on the number of workers or on their timing. At most
``window`` tasks are pending: the pool renders ahead by a bounded amount and memory stays bounded.

Workers are started with ``spawn`` (no state inherited from the parent, which may hold Kafka client
threads), ignore SIGINT (Ctrl-C reaches the whole process group; the parent owns the clean stop)
and exit by themselves when the parent dies. :meth:`OrderedProcessPool.close` stops and joins them:
each may finish the task at hand; one still busy after a grace period (e.g. still starting up) is
terminated (workers hold nothing to clean up, and their unread results are dropped anyway).

An exception in a worker is raised in the parent as :class:`~producers.errors.WorkerError` with the
worker's traceback; so is a worker's death, unless the caller's ``should_stop()`` is true (a
SIGTERM sent to the whole group stops everyone): then the results just end.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnContext, SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from types import TracebackType
from typing import Any, Generic, TypeVar

from producers.errors import WorkerError

T = TypeVar("T")
R = TypeVar("R")

_IDLE_POLL_S = 0.5  # how often an idle worker checks that its parent is still there
_RESULT_POLL_S = 0.2  # how often the parent waiting for a result checks for a stop or a death
DEFAULT_CLOSE_GRACE_S = 1.0  # a worker has this long to finish its task before it is terminated
_JOIN_AFTER_TERMINATE_S = 2.0
_STOPPED = object()


def _never() -> bool:
    return False


@dataclass(frozen=True)
class _Failure:
    """What a worker sends back instead of a result when its handler raised."""

    text: str


def _serve(factory: Callable[[], Callable[[Any], Any]], tasks: Queue, results: Queue, stop: Event) -> None:
    """A worker's main loop: build the handler, then answer tasks until a ``None`` task or a stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops cleanly and closes the pool
    parent = os.getppid()
    try:
        handler = factory()
        while not stop.is_set():
            try:
                task = tasks.get(timeout=_IDLE_POLL_S)
            except queue.Empty:
                if os.getppid() != parent:  # orphaned: the parent died without closing the pool
                    return
                continue
            if task is None or stop.is_set():
                return
            results.put(handler(task))
    except Exception:
        results.put(_Failure(traceback.format_exc()))


class _Worker:
    """One worker process with its own task and result queues."""

    def __init__(self, ctx: SpawnContext, index: int, factory: Callable[[], Any], stop: Event) -> None:
        self.index = index
        self.tasks: Queue = ctx.Queue()
        self.results: Queue = ctx.Queue()
        self.process: SpawnProcess = ctx.Process(
            target=_serve,
            args=(factory, self.tasks, self.results, stop),
            name=f"fieldstream-worker-{index}",
            daemon=True,
        )

    def receive(self, should_stop: Callable[[], bool]) -> Any:
        """The worker's next result, or ``_STOPPED`` as soon as ``should_stop()``; raises
        :class:`WorkerError` if the worker failed or died."""
        while True:
            try:
                result = self.results.get(timeout=_RESULT_POLL_S)
            except queue.Empty:
                if should_stop():
                    return _STOPPED
                if self.process.is_alive():
                    continue
                try:  # it may have sent its last result just before exiting
                    result = self.results.get(timeout=_RESULT_POLL_S)
                except queue.Empty:
                    raise WorkerError(
                        f"worker {self.index} exited with code {self.process.exitcode}"
                    ) from None
            if isinstance(result, _Failure):
                raise WorkerError(f"worker {self.index} failed:\n{result.text}")
            return result

    def drain(self) -> None:
        """Drop unread results (a worker exiting waits until its queued results are written)."""
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                self.results.get_nowait()

    def release(self) -> None:
        for q in (self.tasks, self.results):
            q.close()
            q.cancel_join_thread()


class OrderedProcessPool(Generic[T, R]):
    """``workers`` processes each running ``factory()`` once, then ``handler(task)`` per task.

    ``factory`` must be picklable (a module-level function or a ``functools.partial`` of one).
    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, factory: Callable[[], Callable[[T], R]], workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        ctx = mp.get_context("spawn")
        self._stop = ctx.Event()
        self._workers = [_Worker(ctx, i, factory, self._stop) for i in range(workers)]
        self._submitted = 0
        self._streamed = False
        self._closed = False
        try:
            for worker in self._workers:
                worker.process.start()
        except BaseException:
            self.close()
            raise

    @property
    def processes(self) -> list[SpawnProcess]:
        return [w.process for w in self._workers]

    def ordered(
        self, tasks: Iterable[T], window: int, should_stop: Callable[[], bool] = _never
    ) -> Iterator[R]:
        """Results of ``tasks`` (never None) in order, with at most ``window`` tasks pending; ends
        early when ``should_stop()`` turns true while waiting for a result. One stream per pool
        (results of an abandoned stream may still be on their way)."""
        if window < 1:
            raise ValueError("window must be >= 1")
        if self._streamed:
            raise RuntimeError("this pool has served its stream; use a new pool")
        self._streamed = True
        source = iter(tasks)
        pending: deque[_Worker] = deque()

        def submit() -> None:
            task = next(source, None)
            if task is not None:
                worker = self._workers[self._submitted % len(self._workers)]
                worker.tasks.put(task)
                pending.append(worker)
                self._submitted += 1

        for _ in range(window):
            submit()
        while pending:
            result = pending.popleft().receive(should_stop)
            if result is _STOPPED:
                return
            submit()
            yield result

    def close(self, grace_s: float = DEFAULT_CLOSE_GRACE_S) -> None:
        """Stop the workers: they may finish the task at hand within ``grace_s``, then any still
        running is terminated (killed if it does not go); every worker is joined."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError):  # its queue may be broken
                worker.tasks.put(None)
        deadline = time.monotonic() + grace_s
        for worker in self._workers:
            while worker.process.is_alive() and time.monotonic() < deadline:
                worker.drain()
                worker.process.join(0.05)
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(_JOIN_AFTER_TERMINATE_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.release()

    def __enter__(self) -> OrderedProcessPool[T, R]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
