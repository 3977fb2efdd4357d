"""The Flink configuration a job runs with, and how restarts find their restore point."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from stream_jobs.flink.environment import REQUIRED_JARS, FlinkOptions, connector_jars, flink_configuration
from stream_jobs.flink.errors import MissingConnectorJarError
from stream_jobs.flink.restore import latest_restore_point, prune_restore_points, restore_points


def _jars(folder: Path) -> list[Path]:
    names = [
        "flink-sql-connector-kafka-5.0.0-2.2.jar",
        "flink-connector-jdbc-core-4.0.0-2.0.jar",
        "flink-connector-jdbc-postgres-4.0.0-2.0.jar",
        "postgresql-42.7.14.jar",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"PK")
    return [folder / n for n in names]


def test_connector_jars_one_per_required_prefix(tmp_path):
    jars = _jars(tmp_path)
    assert connector_jars(tmp_path) == jars
    assert len(REQUIRED_JARS) == 4
    jars[1].unlink()
    with pytest.raises(MissingConnectorJarError, match=r"flink-connector-jdbc-core-.*make setup"):
        connector_jars(tmp_path)


def test_configuration_sets_python_jars_memory_and_checkpoints(tmp_path):
    options = FlinkOptions(
        "job", tmp_path / "state", parallelism=2, checkpoint_interval_s=3, metrics_port=9249
    )
    conf = flink_configuration(options, _jars(tmp_path / "lib"))
    assert conf["python.executable"] == sys.executable == conf["python.client.executable"]
    assert conf["pipeline.jars"].split(";") == [p.resolve().as_uri() for p in _jars(tmp_path / "lib")]
    assert conf["parallelism.default"] == "2"
    assert conf["execution.checkpointing.interval"] == "3000 ms"
    assert conf["execution.checkpointing.mode"] == "EXACTLY_ONCE"
    assert conf["execution.checkpointing.dir"] == (tmp_path / "state/checkpoints").resolve().as_uri()
    assert conf["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert conf["taskmanager.memory.managed.size"] == "128m"
    assert conf["table.local-time-zone"] == "UTC"
    assert conf["pipeline.object-reuse"] == "true"
    # the JVM buffers a bundle's rows (media bytes included) until Python answers: two batches at most
    assert int(conf["python.fn-execution.bundle.size"]) == 2 * int(
        conf["python.fn-execution.arrow.batch.size"]
    )
    assert conf["metrics.reporter.prom.port"] == "9249"
    assert "execution.state-recovery.path" not in conf
    cluster = flink_configuration(FlinkOptions("job", tmp_path, cluster=True), [])
    assert "execution.checkpointing.dir" not in cluster and "pipeline.jars" not in cluster  # the cluster's
    restored = FlinkOptions("job", tmp_path / "state", restore_from=tmp_path / "sp")
    assert (
        flink_configuration(restored, [])["execution.state-recovery.path"]
        == (tmp_path / "sp").resolve().as_uri()
    )


def _point(folder: Path, age_s: float) -> Path:
    folder.mkdir(parents=True)
    meta = folder / "_metadata"
    meta.write_bytes(b"x")
    stamp = time.time() - age_s
    os.utime(meta, (stamp, stamp))
    os.utime(folder, (stamp, stamp))
    return folder


def test_the_newest_checkpoint_or_savepoint_wins(tmp_path):
    ck, sp = tmp_path / "checkpoints", tmp_path / "savepoints"
    assert latest_restore_point(ck, sp) is None
    old_run = _point(ck / "job-a" / "chk-7", 300)
    _point(ck / "job-b" / "chk-3", 200)
    (ck / "job-b" / "chk-4").mkdir()  # in progress: no _metadata yet, not a restore point
    newest = _point(sp / "savepoint-b-1", 100)
    assert [p.kind for p in restore_points(ck, sp)] == ["checkpoint", "checkpoint", "savepoint"]
    point = latest_restore_point(ck, sp)
    assert point is not None and point.path == newest and point.kind == "savepoint"
    removed = prune_restore_points(ck, sp, keep=point)
    assert sorted(removed) == sorted([old_run.parent, ck / "job-b"])
    assert latest_restore_point(ck, sp).path == newest


def test_pruning_keeps_the_run_being_resumed(tmp_path):
    ck, sp = tmp_path / "checkpoints", tmp_path / "savepoints"
    _point(sp / "savepoint-a-1", 300)
    keep = _point(ck / "job-c" / "chk-9", 100)
    point = latest_restore_point(ck, sp)
    assert point.path == keep
    prune_restore_points(ck, sp, keep=point)
    assert keep.exists() and not (sp / "savepoint-a-1").exists()
