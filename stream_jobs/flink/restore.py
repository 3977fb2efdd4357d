"""Restore points: the newest retained checkpoint or savepoint a restarted job resumes from.

Flink writes checkpoints to ``<checkpoints>/<job-id>/chk-<n>/_metadata`` (retained on cancellation)
and savepoints to ``<savepoints>/savepoint-<id>/_metadata``. A restart resumes from whichever is
newest, so its Kafka offsets and window state continue exactly where the last run stopped. Older
restore points are pruned once a newer one exists.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fieldstream.flink.restore")


@dataclass(frozen=True)
class RestorePoint:
    path: Path  # the folder holding _metadata
    kind: str  # "checkpoint" | "savepoint"
    mtime: float


def restore_points(checkpoint_dir: Path, savepoint_dir: Path) -> list[RestorePoint]:
    """Every complete restore point (one with a ``_metadata`` file), oldest first."""
    found = [
        RestorePoint(meta.parent, "checkpoint", meta.stat().st_mtime)
        for meta in checkpoint_dir.glob("*/chk-*/_metadata")
    ]
    found += [
        RestorePoint(meta.parent, "savepoint", meta.stat().st_mtime)
        for meta in savepoint_dir.glob("savepoint-*/_metadata")
    ]
    return sorted(found, key=lambda p: p.mtime)


def latest_restore_point(checkpoint_dir: Path, savepoint_dir: Path) -> RestorePoint | None:
    points = restore_points(checkpoint_dir, savepoint_dir)
    return points[-1] if points else None


def prune_restore_points(checkpoint_dir: Path, savepoint_dir: Path, keep: RestorePoint | None) -> list[Path]:
    """Delete the checkpoints of earlier runs and the savepoints older than ``keep``; return what went.

    The folder of ``keep`` and anything newer stay (the running job still writes its own).
    """
    removed: list[Path] = []
    if keep is None:
        return removed
    keep_run = keep.path.parent if keep.kind == "checkpoint" else None
    for run in checkpoint_dir.glob("*"):
        metas = list(run.glob("chk-*/_metadata"))
        newest = max((m.stat().st_mtime for m in metas), default=run.stat().st_mtime)
        if run.is_dir() and run != keep_run and newest < keep.mtime:
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run)
    for point in savepoint_dir.glob("savepoint-*"):
        meta = point / "_metadata"
        stamp = meta.stat().st_mtime if meta.exists() else point.stat().st_mtime
        if point != keep.path and stamp < keep.mtime:
            shutil.rmtree(point, ignore_errors=True)
            removed.append(point)
    if removed:
        log.info("old restore points pruned", extra={"removed": [str(p) for p in removed]})
    return removed
