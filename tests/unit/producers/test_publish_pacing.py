"""Unit tests of rate control and stop handling: the pacer's schedule (producers/pacing.py) and the
stop flag set by signals (producers/shutdown.py)."""

from __future__ import annotations

import os
import signal

import pytest

from producers.pacing import Pacer
from producers.shutdown import StopSignal


class FakeClock:
    """A clock and a stopper in one: ``wait`` advances time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []
        self.stop_after: int | None = None

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:
        self.sleeps.append(round(timeout or 0.0, 9))
        self.now += timeout or 0.0
        return self.stop_after is not None and len(self.sleeps) >= self.stop_after

    def is_set(self) -> bool:
        return False


def test_round_robin_devices_each_get_the_rate_and_share_due_times():
    clock = FakeClock()
    pacer = Pacer(0.1, clock)  # 10 records a second per device
    sent = []
    for _round in range(4):
        for device in ("a", "b", "c"):
            assert pacer.wait(device, clock)
            sent.append((device, round(clock.now - 100.0, 9)))
    assert sent == [(d, i / 10) for i in range(4) for d in ("a", "b", "c")]
    assert clock.sleeps == [0.1, 0.1, 0.1]  # one sleep per round, none between devices
    assert pacer.max_lag_s == 0.0


def test_a_late_record_goes_at_once_and_the_schedule_keeps_its_times():
    clock = FakeClock()
    pacer = Pacer(5.0, clock)  # realtime audio: one 5 s chunk per device
    assert pacer.wait("rec-0", clock)  # t=0
    clock.now += 12.0  # rendering/publishing took 12 s: chunks 1 and 2 are late
    assert pacer.wait("rec-0", clock) and pacer.wait("rec-0", clock)
    assert clock.sleeps == []
    assert pacer.max_lag_s == pytest.approx(7.0)
    assert pacer.wait("rec-0", clock)  # chunk 3 is due at t=15: sleeps 3 s
    assert clock.sleeps == [pytest.approx(3.0)]
    assert pacer.offset_s("rec-0") == 20.0


def test_unpaced_never_sleeps_and_a_stop_ends_the_wait():
    clock = FakeClock()
    unpaced = Pacer.per_second(None)
    assert not unpaced.paced and all(unpaced.wait("x", clock) for _ in range(100))
    assert clock.sleeps == []
    assert Pacer.per_second(0).interval_s is None
    paced = Pacer(1.0, clock)
    clock.stop_after = 1
    assert paced.wait("x", clock)  # first record: due now
    assert not paced.wait("x", clock)  # the stop came during the 1 s sleep
    with pytest.raises(ValueError):
        Pacer(0.0)
    with pytest.raises(ValueError):
        Pacer.per_second(-1)


def test_sigterm_sets_the_flag_and_exit_code_zero_sigint_130():
    stop = StopSignal()
    with stop.installed():
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2.0)
    assert stop.signum == signal.SIGTERM and stop.exit_code == 0 and stop.reason == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) is not stop._handle  # restored

    stop = StopSignal()
    previous = signal.getsignal(signal.SIGINT)
    with stop.installed():
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.wait(2.0)
        # a second Ctrl-C interrupts (e.g. a flush that hangs)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert stop.exit_code == 130 and stop.reason == "SIGINT"
    assert signal.getsignal(signal.SIGINT) is previous
