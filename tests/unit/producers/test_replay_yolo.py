"""Unit tests of the YOLO replayer (producers/replay/yolo.py, images.py): data.yaml names, label
parsing to xyxy, label lookup, image checks, and the record source with skipped files."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from fieldstream.contracts import decode_frame
from fieldstream.topics import FRAMES_RAW
from producers.errors import DatasetError, SkipInputError
from producers.replay import YoloDataset, replay_images
from producers.replay.yolo import check_image, parse_label_text, parse_names, sniff_image, yolo_to_xyxy
from producers.summary import SkippedInput


def _image(fmt: str, seed: int = 0, size: tuple[int, int] = (40, 30)) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


def test_names_as_list_or_dict():
    assert parse_names({"names": ["crop", "weed"]}) == {0: "crop", 1: "weed"}
    assert parse_names({"names": {0: "crop", "3": "weed"}, "nc": 4}) == {0: "crop", 3: "weed"}
    with pytest.raises(DatasetError):
        parse_names({"nc": 2})
    with pytest.raises(DatasetError):
        parse_names({"names": {"crop": 0}})


def test_label_lines_become_clamped_xyxy_with_class_names():
    text = "0 0.5 0.5 0.2 0.4\n\n1 0.05 0.9 0.2 0.3\n3 0.1 0.2 0.3 0.4 0.2 0.1\n"
    boxes = parse_label_text(text, {0: "crop", 1: "weed"})
    assert [(b.class_id, b.class_name) for b in boxes] == [(0, "crop"), (1, "weed"), (3, "3")]
    assert boxes[0].xyxy == pytest.approx((0.4, 0.3, 0.6, 0.7))
    assert boxes[1].xyxy == pytest.approx((0.0, 0.75, 0.15, 1.0))  # clamped at the edges
    assert boxes[2].xyxy == pytest.approx((0.1, 0.1, 0.3, 0.4))  # polygon -> its bounding box
    assert yolo_to_xyxy(0.5, 0.5, 1.0, 1.0) == (0.0, 0.0, 1.0, 1.0)
    message = boxes[0].to_message()
    assert message == {"class_id": 0, "class_name": "crop", "xyxy": pytest.approx([0.4, 0.3, 0.6, 0.7])}


@pytest.mark.parametrize(
    "text", ["0 0.5 0.5 0.2", "x 0.5 0.5 0.2 0.2", "-1 0.5 0.5 0.2 0.2", "1.5 0.5 0.5 0.2 0.2"]
)
def test_malformed_label_lines_are_reported(text):
    with pytest.raises(SkipInputError, match="line 1"):
        parse_label_text(text, {}, "labels/a.txt")


def test_content_type_by_magic_and_corrupt_or_unsupported_images_are_refused():
    jpeg, png = _image("JPEG"), _image("PNG")
    assert sniff_image(jpeg) == "image/jpeg" and sniff_image(png) == "image/png"
    assert check_image(jpeg, "a.jpg") == "image/jpeg"
    assert check_image(png, "a.jpg") == "image/png"  # by magic bytes, not by name
    with pytest.raises(SkipInputError, match="corrupt image/jpeg"):
        check_image(jpeg[: len(jpeg) // 2], "half.jpg")
    with pytest.raises(SkipInputError, match="unsupported image type \\(BMP\\)"):
        check_image(_image("BMP"), "a.bmp")
    with pytest.raises(SkipInputError, match="not an image"):
        check_image(b"hello world", "a.jpg")


def _dataset(tmp_path, names_yaml: str = "names: [crop, weed]\n"):
    (tmp_path / "data.yaml").write_text(names_yaml)
    for sub in ("train", "val"):
        (tmp_path / "images" / sub).mkdir(parents=True)
        (tmp_path / "labels" / sub).mkdir(parents=True)
    (tmp_path / "images/train/a.jpg").write_bytes(_image("JPEG", 1))
    (tmp_path / "labels/train/a.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    (tmp_path / "images/train/b.png").write_bytes(_image("PNG", 2))  # no label file: a negative
    (tmp_path / "images/val/c.jpg").write_bytes(_image("JPEG", 3)[:300])  # truncated
    (tmp_path / "images/val/d.jpg").write_bytes(_image("JPEG", 4))
    (tmp_path / "labels/val/d.txt").write_text("0 0.25 0.25 0.5 0.5\n1 0.75 0.75 0.1 0.1\n")
    (tmp_path / "images/val/notes.txt").write_text("not an image, ignored")
    return YoloDataset.open(tmp_path)


def test_dataset_layout_and_label_lookup(tmp_path):
    ds = _dataset(tmp_path, "names: {0: crop, 1: weed}\n")
    assert [ds.image_id(p) for p in ds.images] == ["train/a", "train/b", "val/c", "val/d"]
    assert ds.names == {0: "crop", 1: "weed"} and ds.has_labels
    assert ds.label_path(tmp_path / "images/train/a.jpg") == tmp_path / "labels/train/a.txt"
    assert ds.boxes(tmp_path / "images/train/b.png") == []
    assert [b.class_name for b in ds.boxes(tmp_path / "images/val/d.jpg")] == ["crop", "weed"]


def test_flat_folder_without_labels_publishes_no_labels(tmp_path):
    (tmp_path / "x.jpg").write_bytes(_image("JPEG"))
    ds = YoloDataset.open(tmp_path)
    assert ds.names == {} and not ds.has_labels
    [item] = list(replay_images(ds, "cam-1", clock_ms=lambda: 1_790_000_000_000))
    assert item.label is None
    with pytest.raises(DatasetError):
        YoloDataset.open(tmp_path / "missing")


def test_replay_images_yields_records_labels_and_skips_the_corrupt_one_once(tmp_path):
    ds = _dataset(tmp_path)
    items = list(replay_images(ds, "cam-7", loop=False, clock_ms=lambda: 1_790_000_000_000))
    skipped = [i for i in items if isinstance(i, SkippedInput)]
    records = [i for i in items if not isinstance(i, SkippedInput)]
    assert [s.path.endswith("val/c.jpg") for s in skipped] == [True]
    assert "corrupt image/jpeg" in skipped[0].reason
    assert [r.topic for r in records] == [FRAMES_RAW] * 3
    frames = [decode_frame(r.record.value, r.record.headers) for r in records]
    assert [f.frame_id for f in frames] == ["train/a", "train/b", "val/d"]
    assert [f.content_type for f in frames] == ["image/jpeg", "image/png", "image/jpeg"]
    assert frames[1].image == (tmp_path / "images/train/b.png").read_bytes()  # unchanged bytes
    labels = [json.loads(r.label.value) for r in records]
    assert [len(label["boxes"]) for label in labels] == [1, 0, 2]
    assert all(label["source"] == "dataset" and label["target"] == "frame" for label in labels)
    assert labels[0]["boxes"][0] == {
        "class_id": 1,
        "class_name": "weed",
        "xyxy": pytest.approx([0.4, 0.4, 0.6, 0.6]),
    }
    assert all(r.record.key == b"cam-7" and r.label.key == b"cam-7" for r in records)

    looped = replay_images(ds, "cam-7", loop=True)
    first_ten = [next(looped) for _ in range(10)]
    assert sum(isinstance(i, SkippedInput) for i in first_ten) == 1  # reported once, not every loop
    ids = [
        decode_frame(i.record.value, i.record.headers).frame_id
        for i in first_ten
        if not isinstance(i, SkippedInput)
    ]
    assert ids[:6] == ["train/a", "train/b", "val/d", "train/a-r1", "train/b-r1", "val/d-r1"]
