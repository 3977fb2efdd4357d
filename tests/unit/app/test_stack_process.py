"""The stack signals only the processes it started: a PID reused by another process is left alone."""

from __future__ import annotations

import subprocess
import sys

from app.stack.process import is_running, started_at, stop


def test_a_reused_pid_is_not_ours_and_is_never_signalled():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        started = started_at(proc.pid)
        assert started is not None
        assert is_running(proc.pid, started)
        # the same PID with another start time: what a stale stack file says after PIDs wrapped
        assert not is_running(proc.pid, started - 3600)
        assert stop(proc.pid, started=started - 3600) is False
        assert proc.poll() is None  # still alive: not signalled
        assert stop(proc.pid, started=started, timeout_s=10) is True
        assert proc.wait(10) is not None
        assert not is_running(proc.pid, started)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_kafka_cluster_ids_never_start_with_a_dash(monkeypatch):
    """The storage tool would read ``-t -xyz`` as a missing value; Kafka's own ids avoid it too."""
    import uuid

    from app.stack import kafka_service

    dash_first = uuid.UUID(bytes=b"\xf8" + bytes(15))  # 0b111110...: base64 digit 62, "-"
    plain = uuid.UUID(bytes=bytes(16))
    drawn = iter([dash_first, plain])
    monkeypatch.setattr(kafka_service.uuid, "uuid4", lambda: next(drawn))
    assert kafka_service._kafka_cluster_id() == "AAAAAAAAAAAAAAAAAAAAAA"
