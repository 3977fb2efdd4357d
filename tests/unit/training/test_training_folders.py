"""Dataset folders: YOLO images and BirdCLEF-style audio, parsed by the replayers, split reproducibly."""

import numpy as np
import pytest
import soundfile
from PIL import Image

from producers.field_camera import FieldCameraConfig, FieldCameraSimulator
from training.data.folders import (
    MAX_CHUNKS_PER_FILE,
    DatasetFolderError,
    dataset_class_names,
    load_folder_datasets,
)
from training.data.snapshot import HELDOUT, TRAIN
from training.models.audio import audio_spec
from training.models.vision import vision_spec


def _yolo_folder(root, split_folders: bool):
    sim = FieldCameraSimulator(FieldCameraConfig(device_id="cam", seed=9, width=320, height=240))
    (root / "data.yaml").write_text("names: [crop, weed]\n")
    frames = list(sim.frames(6))
    for i, frame in enumerate(frames):
        sub = ("val" if i >= 4 else "train") if split_folders else ""
        (root / "images" / sub).mkdir(parents=True, exist_ok=True)
        (root / "labels" / sub).mkdir(parents=True, exist_ok=True)
        Image.fromarray(frame.image).save(root / "images" / sub / f"img{i}.jpg", quality=90)
        lines = [
            f"{b.class_id} {(b.x1 + b.x2) / 2} {(b.y1 + b.y2) / 2} {b.x2 - b.x1} {b.y2 - b.y1}"
            for b in frame.boxes
        ]
        (root / "labels" / sub / f"img{i}.txt").write_text("\n".join(lines) + "\n")
    (root / "images" / sub / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return frames


def test_yolo_folder_with_val_split(tmp_path):
    frames = _yolo_folder(tmp_path, split_folders=True)
    assert dataset_class_names("vision", tmp_path) == ("crop", "weed")
    train, heldout, manifest = load_folder_datasets("vision", tmp_path, vision_spec(), 0.2, 0)
    assert (len(train), len(heldout)) == (4, 2) and train.flip and not heldout.flip
    assert manifest["counts"] == {TRAIN: 4, HELDOUT: 2} and len(manifest["manifest_sha256"]) == 64
    expected = np.array([[b.x1, b.y1, b.x2, b.y2] for b in frames[4].boxes], dtype=np.float32)
    np.testing.assert_allclose(heldout.ground_truth(0).boxes, expected, atol=1e-5)
    np.testing.assert_array_equal(heldout.ground_truth(0).classes, [b.class_id for b in frames[4].boxes])


def test_yolo_folder_without_splits_is_hashed_and_reproducible(tmp_path):
    _yolo_folder(tmp_path, split_folders=False)
    spec = vision_spec()
    _, _, first = load_folder_datasets("vision", tmp_path, spec, 0.3, 1)
    _, _, again = load_folder_datasets("vision", tmp_path, spec, 0.3, 1)
    assert first["manifest_sha256"] == again["manifest_sha256"]
    assert {it["split"] for it in first["items"]} == {TRAIN, HELDOUT}
    assert all(it["id"] != "broken" for it in first["items"])  # the corrupt image was skipped


def _tone(seconds: float, rate: int, freq: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_birdclef_folder_gives_weakly_labelled_chunks_split_by_file(tmp_path):
    audio = tmp_path / "train_audio"
    rows = ["primary_label,secondary_labels,filename"]
    for i, (species, secondary) in enumerate(
        [("wren", "[]"), ("robin", "['wren']"), ("owl", "[]"), ("wren", "[]")]
    ):
        (audio / species).mkdir(parents=True, exist_ok=True)
        soundfile.write(audio / species / f"XC{i}.ogg", _tone(12 if i else 60, 22050, 500 + 300 * i), 22050)
        rows.append(f'{species},"{secondary}",{species}/XC{i}.ogg')
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (audio / "junk.wav").write_bytes(b"RIFF nonsense")  # not in train.csv: ignored

    names = dataset_class_names("audio", audio)
    assert names == ("owl", "robin", "wren")
    spec = audio_spec(names)
    train, heldout, manifest = load_folder_datasets("audio", audio, spec, 0.3, 0)
    chunks = {it["id"]: it["chunks"] for it in manifest["items"]}
    assert chunks["wren/XC0.ogg"] == MAX_CHUNKS_PER_FILE  # 60 s capped at the first 30 s
    assert chunks["robin/XC1.ogg"] == 3  # 12 s: two full chunks + a padded 2 s tail
    assert len(train) + len(heldout) == sum(chunks.values())
    assert {it["split"] for it in manifest["items"]} == {TRAIN, HELDOUT}
    robin = next(it for it in manifest["items"] if it["id"] == "robin/XC1.ogg")
    dataset = train if robin["split"] == TRAIN else heldout
    rows_with_robin = dataset.targets[:, names.index("robin")] == 1
    assert int(rows_with_robin.sum()) == 3
    assert bool((dataset.targets[rows_with_robin, names.index("wren")] == 1).all())  # secondary label


def test_folders_without_labels_are_refused(tmp_path):
    (tmp_path / "images").mkdir()
    with pytest.raises(DatasetFolderError, match=r"data\.yaml"):
        dataset_class_names("vision", tmp_path)
    with pytest.raises(DatasetFolderError, match=r"train\.csv"):
        dataset_class_names("audio", tmp_path)
