"""Offline-store snapshots without a database: split rule, manifest hashing, loading from an archive."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from feature_store.archive import LocalArchive, MediaItem
from model_contract.preprocess import log_mel, resize_images
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator
from producers.soundscape import BASE_SPECIES_IDS, SoundscapeConfig, SoundscapeSimulator
from training.data import snapshot
from training.data.snapshot import (
    HELDOUT,
    TRAIN,
    SnapshotError,
    SnapshotQuery,
    assign_splits,
    build_snapshot,
    content_hash,
    load_snapshot_datasets,
    read_manifest,
    split_groups,
)
from training.models.audio import audio_spec
from training.models.vision import vision_spec

AS_OF = datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_split_is_deterministic_keeps_groups_together_and_fills_both_sides():
    groups = [f"dev-{i % 7}:{i // 7}" for i in range(700)]
    first = split_groups(groups, seed=3, fraction=0.25)
    assert first == split_groups(groups, seed=3, fraction=0.25)  # reproducible
    assert first != split_groups(groups, seed=4, fraction=0.25)  # the seed matters
    side = {}
    for g, s in zip(groups, first, strict=True):
        assert side.setdefault(g, s) == s  # one side per group
    held = sum(s == HELDOUT for s in side.values()) / len(side)
    assert 0.1 < held < 0.4
    # two groups and a tiny (or huge) fraction: one group is moved so neither side is empty
    assert sorted(set(split_groups(["a", "b", "a"], 0, 1e-9))) == [HELDOUT, TRAIN]
    assert sorted(set(split_groups(["a", "b"], 0, 1 - 1e-9))) == [HELDOUT, TRAIN]
    assert split_groups(["only", "only"], 0, 0.5) in ([TRAIN, TRAIN], [HELDOUT, HELDOUT])


def test_items_split_by_device_and_time_bucket():
    items = [{"device_id": d, "captured_at": t * 1000} for d in ("a", "b", "c") for t in range(0, 600, 5)]
    splits = assign_splits(items, seed=0, fraction=0.3, bucket_s=60)
    by_group: dict = {}
    for it, s in zip(items, splits, strict=True):
        by_group.setdefault((it["device_id"], it["captured_at"] // 60_000), set()).add(s)
    assert all(len(v) == 1 for v in by_group.values()) and len(by_group) == 30
    assert {s for v in by_group.values() for s in v} == {TRAIN, HELDOUT}


def test_query_keeps_what_existed_at_as_of():
    sql, args = snapshot._select(SnapshotQuery("audio", AS_OF, devices=("r-1",), limit=5))
    for clause in ("l.captured_at <= %(as_of)s", "l.labelled_at <= %(as_of)s", "m.ingested_at <= %(as_of)s"):
        assert clause in sql
    assert "JOIN audio_chunks m" in sql and "DISTINCT ON" in sql and "LIMIT %(limit)s" in sql
    assert args == {"target": "chunk", "as_of": AS_OF, "devices": ["r-1"], "limit": 5}
    with pytest.raises(ValueError, match="timezone"):
        SnapshotQuery("vision", datetime(2026, 5, 1))


@pytest.fixture()
def vision_store(tmp_path):
    """Four archived frames (two devices, two minutes) and their label rows, as the store holds them."""
    archive = LocalArchive(tmp_path / "media")
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="cam", seed=2, width=320, height=240))
    rows, frames = [], []
    for i, frame in enumerate(sim.frames(4)):
        device, at = f"cam-{i % 2}", 1_700_000_000_000 + (i // 2) * 60_000
        uri = archive.put(MediaItem("frames", f"f{i}", device, at, "image/jpeg"), sim.encode(frame))
        boxes = [{"class_name": b.class_name, "xyxy": [b.x1, b.y1, b.x2, b.y2]} for b in frame.boxes]
        boxes.append({"class_name": "stone", "xyxy": [0.1, 0.1, 0.2, 0.2]})  # a class the model lacks
        rows.append(
            {
                "id": f"f{i}",
                "device_id": device,
                "captured_at": at,
                "label_source": "simulator",
                "media_uri": uri,
                "content_type": "image/jpeg",
                "size_bytes": 1,
                "boxes": boxes,
            }
        )
        frames.append(frame)
    return archive, rows, frames


def _build(monkeypatch, tmp_path, archive, rows, task="vision", **kw):
    monkeypatch.setattr(snapshot, "query_items", lambda _dsn, _q: [dict(r) for r in rows])
    query = SnapshotQuery(task, AS_OF, heldout_fraction=0.5, **kw)
    return build_snapshot(
        "postgresql://unused", str(archive.root), query, tmp_path / "snap" / "manifest.json"
    )


def test_build_writes_a_manifest_with_hashes_and_loads_back(monkeypatch, tmp_path, vision_store):
    archive, rows, frames = vision_store
    manifest = _build(monkeypatch, tmp_path, archive, rows)
    on_disk = read_manifest(tmp_path / "snap")  # the folder works as well as the file
    assert on_disk == manifest and manifest["counts"]["items"] == 4
    assert {it["split"] for it in manifest["items"]} == {TRAIN, HELDOUT}
    assert all(len(it["sha256"]) == 64 for it in manifest["items"])
    assert manifest["counts"]["classes"]["stone"] == 4

    train, heldout = load_snapshot_datasets(tmp_path / "snap" / "manifest.json", vision_spec())
    assert len(train) + len(heldout) == 4 and train.flip and not heldout.flip
    held_ids = [it["id"] for it in manifest["items"] if it["split"] == HELDOUT]
    first = frames[int(held_ids[0][1:])]
    # boxes of known classes kept in order, "stone" dropped; the image is the decoded JPEG resized
    expected = np.array([[b.x1, b.y1, b.x2, b.y2] for b in first.boxes], dtype=np.float32).reshape(-1, 4)
    np.testing.assert_allclose(heldout.ground_truth(0).boxes, expected, atol=1e-6)
    assert heldout.images.shape[1:] == (192, 256, 3)
    assert np.abs(heldout.images[0].astype(int) - resize_images([first.image])[0].astype(int)).mean() < 4


def test_the_hash_covers_content_not_location_and_edits_are_refused(monkeypatch, tmp_path, vision_store):
    archive, rows, _ = vision_store
    manifest = _build(monkeypatch, tmp_path, archive, rows)
    moved = json.loads(json.dumps(manifest))
    for it in moved["items"]:
        it["media_uri"] = it["media_uri"].replace("/media/", "/elsewhere/")
    moved["created_at"] = "later"
    assert content_hash(moved) == manifest["manifest_sha256"]
    relabelled = json.loads(json.dumps(manifest))
    relabelled["items"][0]["boxes"] = []
    assert content_hash(relabelled) != manifest["manifest_sha256"]
    path = tmp_path / "snap" / "manifest.json"
    path.write_text(json.dumps(relabelled))
    with pytest.raises(SnapshotError, match="edited"):
        read_manifest(path)


def test_changed_media_is_refused(monkeypatch, tmp_path, vision_store):
    archive, rows, _ = vision_store
    manifest = _build(monkeypatch, tmp_path, archive, rows)
    target = archive._path(manifest["items"][0]["media_uri"])
    target.write_bytes(target.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(SnapshotError, match="changed since the snapshot"):
        load_snapshot_datasets(tmp_path / "snap" / "manifest.json", vision_spec())


def test_audio_snapshot_loads_log_mel_and_multi_hot_targets(monkeypatch, tmp_path):
    archive = LocalArchive(tmp_path / "media")
    chunks = list(
        SoundscapeSimulator(
            SoundscapeConfig(device_id="rec", seed=4, sessions=2, chunks_per_session=2)
        ).chunks(4)
    )
    rows = []
    for i, c in enumerate(chunks):
        at = 1_700_000_000_000 + i * 60_000
        uri = archive.put(MediaItem("audio", c.chunk_id, "rec", at, "audio/wav"), c.to_wav())
        rows.append(
            {
                "id": c.chunk_id,
                "device_id": "rec",
                "captured_at": at,
                "label_source": "simulator",
                "media_uri": uri,
                "content_type": "audio/wav",
                "size_bytes": 1,
                "session_id": c.session_id,
                "sample_rate": c.sample_rate,
                "species": list(c.species),
            }
        )
    manifest = _build(monkeypatch, tmp_path, archive, rows, task="audio")
    spec = audio_spec(tuple(BASE_SPECIES_IDS))
    train, heldout = load_snapshot_datasets(tmp_path / "snap" / "manifest.json", spec)
    assert len(train) + len(heldout) == 4 and train.time_shift and not heldout.time_shift
    first_held = next(i for i, it in enumerate(manifest["items"]) if it["split"] == HELDOUT)
    chunk = chunks[first_held]
    expected = log_mel([chunk.waveform], chunk.sample_rate, spec.preprocess)[0]
    assert np.abs(heldout.features[0].numpy() - expected).max() < 0.05  # PCM16 round trip
    truth = heldout.targets[0].numpy()
    assert {spec.class_names[k] for k in np.flatnonzero(truth)} == set(chunk.species) & set(spec.class_names)
