"""The media archive: layout, byte-identical read back, write-then-rename, idempotent puts, URLs."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

import pytest

from feature_store.archive import Archive, ArchiveError, LocalArchive, MediaItem, open_archive
from feature_store.archive.archive import safe_name

JPEG = b"\xff\xd8\xff" + bytes(range(256)) * 40
ITEM = MediaItem("frames", "boom-7-000001", "boom-7", 1_790_000_000_123, "image/jpeg")


def test_put_then_get_is_byte_identical_and_laid_out_by_kind_device_day(tmp_path):
    archive = LocalArchive(tmp_path / "media")
    uri = archive.put(ITEM, JPEG)
    assert uri == (tmp_path / "media/frames/boom-7/2026-09-21/boom-7-000001.jpg").resolve().as_uri()
    assert archive.get(uri) == JPEG
    assert archive.exists(uri)
    assert archive.uri_for(ITEM) == uri


def test_audio_extension_and_day_come_from_the_item(tmp_path):
    item = MediaItem("audio", "rec-1-c9", "rec-1", 0, "audio/flac")
    uri = LocalArchive(tmp_path).put(item, b"fLaC....")
    assert uri.endswith("/audio/rec-1/1970-01-01/rec-1-c9.flac")


def test_nothing_partial_is_ever_visible_under_the_final_name(tmp_path, monkeypatch):
    archive = LocalArchive(tmp_path)
    final = archive.path_for(ITEM)
    seen: list[bool] = []
    real_replace = os.replace

    def replace(src, dst):
        seen.append(Path(dst).exists())  # at rename time the final name does not exist yet
        assert Path(src).read_bytes() == JPEG  # and the temporary file is complete
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    archive.put(ITEM, JPEG)
    assert seen == [False]
    assert final.read_bytes() == JPEG
    assert [p.name for p in final.parent.iterdir()] == [final.name]  # no temporary file left


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    archive = LocalArchive(tmp_path)

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ArchiveError, match="disk full"):
        archive.put(ITEM, JPEG)
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_putting_the_same_item_again_is_a_no_op(tmp_path, monkeypatch):
    archive = LocalArchive(tmp_path, fsync=True)
    uri = archive.put(ITEM, JPEG)
    monkeypatch.setattr(os, "replace", lambda *_: pytest.fail("rewrote an archived item"))
    assert archive.put(ITEM, JPEG) == uri


@pytest.mark.parametrize("item_id", ["../../etc/passwd", ".hidden", "a/b\\c", "ünï cödé", "..", "x?y#z"])
def test_any_id_becomes_one_safe_reversible_file_name(tmp_path, item_id):
    name = safe_name(item_id)
    assert "/" not in name and not name.startswith(".") and name not in ("", "..")
    assert unquote(name) == item_id
    uri = LocalArchive(tmp_path).put(MediaItem("frames", item_id, "dev/../x", 0, "image/png"), b"\x89PNG")
    assert Path(unquote(uri.removeprefix("file://"))).is_relative_to(tmp_path.resolve())


def test_reading_outside_the_archive_is_refused(tmp_path):
    archive = LocalArchive(tmp_path / "media")
    with pytest.raises(ArchiveError, match="outside"):
        archive.get((tmp_path / "secret.txt").as_uri())
    with pytest.raises(ArchiveError, match="file://"):
        archive.get("s3://bucket/key")
    with pytest.raises(ArchiveError):
        archive.get((tmp_path / "media/frames/nope.jpg").as_uri())


def test_open_archive_by_url(tmp_path):
    assert isinstance(open_archive(tmp_path), LocalArchive)
    by_uri = open_archive(tmp_path.as_uri())
    assert isinstance(by_uri, Archive) and by_uri.root == tmp_path.resolve()
    with pytest.raises(ArchiveError, match="extension point"):
        open_archive("s3://bucket/prefix")
    with pytest.raises(ArchiveError, match="unsupported"):
        open_archive("ftp://host/x")


def test_items_are_checked():
    with pytest.raises(ValueError):
        MediaItem("video", "a", "d", 0, "image/jpeg")
    with pytest.raises(ValueError):
        MediaItem("frames", "a", "d", 0, "image/gif")
    with pytest.raises(ValueError):
        MediaItem("frames", "", "d", 0, "image/jpeg")
