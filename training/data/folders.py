"""Training from real dataset folders: YOLO-format images (vision), BirdCLEF-style audio (audio).

The folders are parsed by the replayers' own readers (:mod:`producers.replay`), so a folder trains
exactly what ``fieldstream produce replay-images|replay-audio`` would publish:

- **YOLO** (``DIR/data.yaml`` + ``images/**`` + ``labels/**``, :class:`producers.replay.YoloDataset`):
  class names from ``data.yaml``; images that are not JPEG/PNG or do not decode are skipped with a
  warning. Split: ``images/{val,valid,validation,test}/`` are held out when the folder has such
  sub-folders; otherwise images are split by ``sha256(f"{seed}:{image_id}")``.
- **BirdCLEF** (audio files + ``train.csv`` [+ ``taxonomy.csv``], :class:`producers.replay.BirdclefLabels`):
  each file is mixed to mono, resampled and cut into 5 s chunks by :func:`producers.replay.file_chunks`
  (the first :data:`MAX_CHUNKS_PER_FILE` of them); every chunk gets its file's species (weak
  labels). Class names: the species of the labelled files, sorted. Split by file, hashed like images,
  so the chunks of one recording never straddle train and held-out.

Either loader also returns a manifest (per-file sha256, split, a ``manifest_sha256``), logged to MLflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from fieldstream.modality import VISION
from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig, decode_for_model, log_mel
from model_contract.spec import ModelSpec
from training.data.simulated import AudioDataset, VisionDataset
from training.data.snapshot import HELDOUT, TRAIN, split_groups

log = logging.getLogger("fieldstream.train.folders")

MAX_CHUNKS_PER_FILE = 6  # 30 s: recordings usually open with their labelled species
HELDOUT_FOLDERS = frozenset({"val", "valid", "validation", "test"})
_BATCH = 64


class DatasetFolderError(RuntimeError):
    """A dataset folder cannot be used for training."""


def dataset_class_names(task: str, root: str | Path) -> tuple[str, ...]:
    """The class names a model trained on the folder predicts (read before the model is built)."""
    from producers.errors import DatasetError
    from producers.replay import BirdclefLabels, YoloDataset, find_audio_files

    root = Path(root)
    try:
        if task == VISION.name:
            names = YoloDataset.open(root).names
            if not names:
                raise DatasetFolderError(f"{root} has no data.yaml with class names")
            return tuple(names[i] for i in sorted(names))
        labels = BirdclefLabels.find(root)
        if labels is None:
            raise DatasetFolderError(f"no train.csv in {root} or its parent: the recordings have no labels")
        found = {s for f in find_audio_files(root) for s in labels.species_for(f, root) or ()}
    except DatasetError as exc:
        raise DatasetFolderError(str(exc)) from exc
    if not found:
        raise DatasetFolderError(f"none of the recordings under {root} is in train.csv")
    return tuple(sorted(found))


def load_folder_datasets(
    task: str, root: str | Path, spec: ModelSpec, heldout_fraction: float, seed: int
) -> tuple[VisionDataset | AudioDataset, VisionDataset | AudioDataset, dict[str, Any]]:
    """(train, held-out, manifest) of a dataset folder for a model of ``spec``."""
    root = Path(root)
    if task == VISION.name:
        return _yolo(root, spec, heldout_fraction, seed)
    return _birdclef(root, spec, heldout_fraction, seed)


def _manifest(
    fmt: str, root: Path, seed: int, fraction: float, items: list[dict[str, Any]]
) -> dict[str, Any]:
    content = {"format": fmt, "split": {"seed": seed, "heldout_fraction": fraction}, "items": items}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    counts = {s: sum(it["split"] == s for it in items) for s in (TRAIN, HELDOUT)}
    return {
        "source": "dataset",
        "root": str(root.resolve()),
        **content,
        "counts": counts,
        "manifest_sha256": digest,
    }


def _splits(ids: list[str], explicit: list[str | None], seed: int, fraction: float) -> list[str]:
    if any(e is not None for e in explicit):
        return [e or TRAIN for e in explicit]
    return split_groups(ids, seed, fraction)


def _yolo(root: Path, spec: ModelSpec, fraction: float, seed: int) -> tuple[Any, Any, dict[str, Any]]:

    from producers.errors import DatasetError, SkipInputError
    from producers.replay import YoloDataset
    from producers.replay.yolo import check_image

    pre = spec.preprocess
    assert isinstance(pre, VisionPreprocessConfig)
    try:
        dataset = YoloDataset.open(root)
    except DatasetError as exc:
        raise DatasetFolderError(str(exc)) from exc
    if not dataset.has_labels:
        raise DatasetFolderError(f"{root} has no YOLO label files (labels/**/*.txt)")
    index = {name: k for k, name in enumerate(spec.class_names)}
    kept: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]] = []
    for path in dataset.images:
        data = path.read_bytes()
        try:
            check_image(data, str(path))
            boxes = dataset.boxes(path) or []
        except SkipInputError as exc:
            log.warning("image skipped", extra={"path": str(path), "reason": str(exc)})
            continue
        known = [b for b in boxes if b.class_name in index]
        xyxy = np.array([b.xyxy for b in known], dtype=np.float32).reshape(-1, 4)
        classes = np.array([index[b.class_name] for b in known], dtype=np.int64)
        image_id = dataset.image_id(path)
        item = {"id": image_id, "sha256": hashlib.sha256(data).hexdigest(), "boxes": len(known)}
        kept.append((image_id, decode_for_model(data, pre), xyxy, classes, item))
    if not kept:
        raise DatasetFolderError(f"no usable images under {root}")
    ids = [k[0] for k in kept]
    explicit = [_folder_split(i) for i in ids]
    splits = _splits(ids, explicit, seed, fraction)
    items = [dict(k[4], split=s) for k, s in zip(kept, splits, strict=True)]
    parts = []
    for split in (TRAIN, HELDOUT):
        chosen = [k for k, s in zip(kept, splits, strict=True) if s == split]
        if not chosen:
            raise DatasetFolderError(f"{root}: the {split} split is empty")
        parts.append(
            VisionDataset(
                np.stack([c[1] for c in chosen]),
                [c[2] for c in chosen],
                [c[3] for c in chosen],
                pre,
                spec.num_classes,
                (),
                flip=split == TRAIN,
            )
        )
    return parts[0], parts[1], _manifest("yolo", root, seed, fraction, items)


def _folder_split(image_id: str) -> str | None:
    first = image_id.split("/", 1)[0].lower() if "/" in image_id else ""
    if first in HELDOUT_FOLDERS:
        return HELDOUT
    return TRAIN if first == "train" else None


def _birdclef(root: Path, spec: ModelSpec, fraction: float, seed: int) -> tuple[Any, Any, dict[str, Any]]:
    from producers.errors import DatasetError
    from producers.replay import BirdclefLabels, file_chunks, find_audio_files

    pre = spec.preprocess
    assert isinstance(pre, AudioPreprocessConfig)
    try:
        files = find_audio_files(root)
        labels = BirdclefLabels.find(root)
    except DatasetError as exc:
        raise DatasetFolderError(str(exc)) from exc
    if labels is None:
        raise DatasetFolderError(f"no train.csv in {root} or its parent: the recordings have no labels")
    labelled = [(f, labels.species_for(f, root)) for f in files]
    labelled = [(f, s) for f, s in labelled if s is not None]
    if not labelled:
        raise DatasetFolderError(f"none of the recordings under {root} is in train.csv")
    ids = [f.resolve().relative_to(root.resolve()).as_posix() for f, _ in labelled]
    splits = split_groups(ids, seed, fraction)
    index = {name: k for k, name in enumerate(spec.class_names)}
    out: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {TRAIN: ([], []), HELDOUT: ([], [])}
    items = []
    for (path, species), file_id, split in zip(labelled, ids, splits, strict=True):
        try:
            chunks = list(islice(file_chunks(path, pre.sample_rate), MAX_CHUNKS_PER_FILE))
        except RuntimeError as exc:  # libsndfile cannot decode it
            log.warning("recording skipped", extra={"path": str(path), "reason": str(exc)})
            continue
        if not chunks:
            continue
        target = np.zeros(len(index), dtype=np.float32)
        target[[index[s] for s in species if s in index]] = 1.0
        features, targets = out[split]
        for start in range(0, len(chunks), _BATCH):
            features.append(log_mel(chunks[start : start + _BATCH], pre.sample_rate, pre))
        targets.extend([target] * len(chunks))
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        items.append(
            {"id": file_id, "sha256": digest, "split": split, "species": list(species), "chunks": len(chunks)}
        )
    parts = []
    for split in (TRAIN, HELDOUT):
        features, targets = out[split]
        if not features:
            raise DatasetFolderError(f"{root}: the {split} split is empty")
        parts.append(
            AudioDataset(
                np.concatenate(features), np.stack(targets), spec.class_names, (), time_shift=split == TRAIN
            )
        )
    return parts[0], parts[1], _manifest("birdclef", root, seed, fraction, items)
