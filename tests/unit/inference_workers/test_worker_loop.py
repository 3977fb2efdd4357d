"""The worker loop against an in-memory Kafka (a partitioned log that can rebalance, a transactional
producer that can fail a commit) and a stand-in model: exactly one committed detection per record
when commits fail and partitions are revoked or lost, each commit running while the next batch is
inferred, and its health endpoint. The real-broker runs are in tests/integration/test_workers.py;
the fakes are in worker_fakes.py."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import pytest
from worker_fakes import Log, Record, StandInModel, TransactionalProducer, frames

from fieldstream.settings import load_settings
from fieldstream.topics import DEADLETTER, DETECTIONS_VISION, FRAMES_RAW
from inference_workers.worker.config import WorkerConfig
from inference_workers.worker.loop import STALL_S, InferenceWorker


def new_worker(tmp_path, model: StandInModel, **config: Any) -> InferenceWorker:
    return InferenceWorker(
        load_settings({}, data_dir=tmp_path),
        WorkerConfig("vision", watch_models=False, attach_features=False, decode_threads=2, **config),
        runtime=model,  # type: ignore[arg-type]
    )


def run_worker(
    tmp_path,
    partitions: dict[int, list[Record]],
    fail: set[int],
    rebalances: dict[int, str] | None = None,
    **config: Any,
):
    model = StandInModel()
    worker = new_worker(tmp_path, model, **config)
    producer = TransactionalProducer(fail)
    log = Log(partitions, rebalances, committed=lambda: producer.offsets)
    worker.start(consumer=log, producer=producer)
    assert producer.initialised and log.subscribed == [FRAMES_RAW]
    worker.run(idle_exit_s=0.3)
    worker.close()
    assert log.closed
    return worker, producer, model


def committed_detections(producer: TransactionalProducer) -> Counter:
    return Counter(json.loads(v)["frame_id"] for t, v in producer.committed if t == DETECTIONS_VISION)


def test_every_record_is_committed_once_when_commits_fail(tmp_path):
    partitions = frames(3, 40, malformed={(1, 5), (2, 33)})
    worker, producer, _ = run_worker(
        tmp_path, partitions, fail={2, 3, 6, 9, 13}, max_batch=8, commit_interval_ms=0
    )
    detections = committed_detections(producer)
    dead = [v for t, v in producer.committed if t == DEADLETTER]
    expected = {f"f-{p}-{o}" for p in range(3) for o in range(40)} - {"f-1-5", "f-2-33"}
    assert producer.attempts > 13  # the failed commits happened, and were retried
    assert detections == Counter(expected)  # none lost, none doubled
    assert len(dead) == 2
    assert producer.offsets == {0: 40, 1: 40, 2: 40}
    assert worker.processed == 120


def test_a_commit_runs_while_the_next_batch_is_inferred(tmp_path):
    partitions = frames(2, 64, malformed=set())
    _, producer, model = run_worker(tmp_path, partitions, fail=set(), max_batch=8, commit_interval_ms=0)
    assert len(producer.committed) == 128
    # a commit waits for the broker; the model does not wait for it: every commit but the last
    # (no batch after it) overlaps the next batch's inference
    overlapped = [any(i0 < c1 and i1 > c0 for i0, i1 in model.spans) for c0, c1 in producer.commit_spans]
    assert len(overlapped) >= 8 and all(overlapped[:-1]), overlapped


def test_a_revocation_commits_what_was_processed_still_exactly_once_when_commits_fail(tmp_path):
    partitions = frames(3, 40, malformed=set())
    # revoked between batches while a transaction is open (a commit interval longer than the run)
    worker, producer, _ = run_worker(
        tmp_path,
        partitions,
        fail={3, 4},
        rebalances={4: "revoke", 14: "revoke"},
        max_batch=8,
        commit_interval_ms=1000,
    )
    assert committed_detections(producer) == Counter(f"f-{p}-{o}" for p in range(3) for o in range(40))
    assert producer.offsets == {0: 40, 1: 40, 2: 40}
    assert worker.processed == 120
    assert worker.assignment() == [(FRAMES_RAW, 0), (FRAMES_RAW, 1), (FRAMES_RAW, 2)]


def test_lost_partitions_abort_the_open_transaction_and_are_read_again_from_the_commit(tmp_path):
    partitions = frames(3, 40, malformed=set())
    worker, producer, _ = run_worker(
        tmp_path, partitions, fail=set(), rebalances={5: "lost", 11: "lost"}, commit_interval_ms=1000
    )
    assert producer.aborts == 2  # what each loss found open could no longer commit its offsets
    assert committed_detections(producer) == Counter(f"f-{p}-{o}" for p in range(3) for o in range(40))
    assert producer.offsets == {0: 40, 1: 40, 2: 40}
    assert worker.processed == 120


def test_healthz_says_the_loop_turns_and_readyz_which_model_serves(tmp_path):
    model = StandInModel()
    worker = new_worker(tmp_path, model, metrics_port=0)
    assert worker.readiness() == (False, "consumer not started")
    producer = TransactionalProducer(set())
    worker.start(consumer=Log(frames(1, 3, set())), producer=producer)
    try:
        assert worker.health is not None
        base = f"http://127.0.0.1:{worker.health.port}"
        with urllib.request.urlopen(f"{base}/readyz", timeout=5) as resp:
            assert json.load(resp) == {
                "ok": True,
                "detail": "vision-detector v7 (fp32) on CPUExecutionProvider",
            }
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
            assert json.load(resp) == {"ok": True, "detail": "starting"}
        worker.run(idle_exit_s=0.1)
        assert worker.liveness()[0] and worker.last_turn is not None
        worker.last_turn -= STALL_S + 1  # a loop stuck for longer than that
        with pytest.raises(urllib.error.HTTPError) as stuck:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
        assert stuck.value.code == 503
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert 'fieldstream_worker_records_total{kind="vision"} 3.0' in metrics
    finally:
        worker.close()
