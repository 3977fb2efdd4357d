"""Dataset snapshots from the offline store: labels + archived media as they stood at a time T.

:func:`build_snapshot` reads the ``labels`` table joined to ``frames`` (vision) or ``audio_chunks``
(audio) in PostgreSQL, keeping what existed at ``as_of``: items captured, ingested and labelled at
or before it (for an item with several labels, the best source at T: annotator > dataset >
simulator, then the newest). It fetches every item's media from the archive, hashes it (sha256) and
writes a JSON manifest: the query, the split, per-item ids, labels, media URI and hash, and a
``manifest_sha256`` over the dataset's content (items, labels, hashes, split; not the build time
nor where the archive lives), so two builds of the same data give the same hash.

**Split.** Items are grouped by (device, time bucket of ``bucket_s`` seconds); a group is held out
when ``sha256(f"{seed}:{device}:{bucket}")`` read as a number in [0, 1) is below
``heldout_fraction``. Neighbouring frames of one drive (near-duplicates) and the chunks of one
minute of a recording stay on the same side, and the split of an item never changes when data is
added. Should no group (or every group) fall below the fraction, the group with the smallest (or
largest) hash changes side, so both sides are non-empty whenever there are two groups.

:func:`load_snapshot_datasets` turns a manifest back into (train, held-out) torch datasets, reading
the media from the archive and refusing any whose hash changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg2

from feature_store.archive import Archive, open_archive
from fieldstream.media_decoding import decode_audio
from fieldstream.modality import AUDIO, VISION
from model_contract.preprocess import AudioPreprocessConfig, VisionPreprocessConfig, decode_for_model, log_mel
from model_contract.spec import ModelSpec
from training.config import SNAPSHOT_BUCKET_S, SNAPSHOT_HELDOUT_FRACTION, SNAPSHOT_SPLIT_SEED

if TYPE_CHECKING:
    from training.data.simulated import AudioDataset, VisionDataset

log = logging.getLogger("fieldstream.train.snapshot")

FORMAT = "fieldstream.snapshot/v1"
TRAIN, HELDOUT = "train", "heldout"
_DECODE_BATCH = 64  # items decoded at once (bounds memory for long audio snapshots)
_SOURCE_RANK = "CASE l.source WHEN 'annotator' THEN 0 WHEN 'dataset' THEN 1 ELSE 2 END"
_MEDIA = {
    VISION.name: ("frame", "frames", VISION.id_header, "NULL::integer AS sample_rate"),
    AUDIO.name: ("chunk", "audio_chunks", AUDIO.id_header, "m.sample_rate"),
}


class SnapshotError(RuntimeError):
    """A snapshot could not be built or loaded (the cause is chained)."""


@dataclass(frozen=True)
class SnapshotQuery:
    """Which labelled items a snapshot holds and how they are split."""

    task: str  # "vision" | "audio"
    as_of: datetime
    since: datetime | None = None
    devices: tuple[str, ...] = ()
    limit: int | None = None  # the newest N items (at as_of)
    seed: int = SNAPSHOT_SPLIT_SEED
    heldout_fraction: float = SNAPSHOT_HELDOUT_FRACTION
    bucket_s: int = SNAPSHOT_BUCKET_S

    def __post_init__(self) -> None:
        if self.task not in _MEDIA:
            raise ValueError(f"task must be one of {sorted(_MEDIA)}")
        if self.as_of.tzinfo is None:
            raise ValueError("as_of must be timezone-aware")
        if not 0.0 < self.heldout_fraction < 1.0 or self.bucket_s < 1:
            raise ValueError("need 0 < heldout_fraction < 1 and bucket_s >= 1")


def split_score(seed: int, group: str) -> float:
    """A group's position in [0, 1): held out when below the held-out fraction."""
    digest = hashlib.sha256(f"{seed}:{group}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_groups(groups: Sequence[str], seed: int, fraction: float) -> list[str]:
    """``"train"`` or ``"heldout"`` per entry of ``groups`` (entries of one group share a side); both
    sides are non-empty whenever there are two distinct groups (see the module docstring)."""
    scores = [split_score(seed, g) for g in groups]
    distinct = sorted(set(scores))
    held = {s for s in distinct if s < fraction}
    if len(distinct) >= 2 and not held:
        held = {distinct[0]}
    elif len(distinct) >= 2 and len(held) == len(distinct):
        held.discard(distinct[-1])
    return [HELDOUT if s in held else TRAIN for s in scores]


def assign_splits(items: Sequence[dict[str, Any]], seed: int, fraction: float, bucket_s: int) -> list[str]:
    """The split of each item, grouped by device and ``bucket_s`` time bucket."""
    groups = [f"{it['device_id']}:{it['captured_at'] // (bucket_s * 1000)}" for it in items]
    return split_groups(groups, seed, fraction)


def _select(query: SnapshotQuery) -> tuple[str, dict[str, Any]]:
    target, table, id_column, rate = _MEDIA[query.task]
    where = [
        "l.target = %(target)s",
        "l.captured_at <= %(as_of)s",
        "l.labelled_at <= %(as_of)s",
        "m.ingested_at <= %(as_of)s",
    ]
    args: dict[str, Any] = {"target": target, "as_of": query.as_of}
    if query.since is not None:
        where.append("l.captured_at >= %(since)s")
        args["since"] = query.since
    if query.devices:
        where.append("l.device_id = ANY(%(devices)s)")
        args["devices"] = list(query.devices)
    best = (
        f"SELECT DISTINCT ON (l.item_id, l.captured_at) l.item_id, l.device_id, l.session_id,"
        f" l.captured_at, l.source, l.boxes, l.species, m.media_uri, m.content_type, m.size_bytes, {rate}"
        f" FROM labels l JOIN {table} m ON m.{id_column} = l.item_id AND m.captured_at = l.captured_at"
        f" WHERE {' AND '.join(where)}"
        f" ORDER BY l.item_id, l.captured_at, {_SOURCE_RANK}, l.labelled_at DESC"
    )
    sql = f"SELECT * FROM ({best}) AS best ORDER BY captured_at DESC, item_id"
    if query.limit is not None:
        sql += " LIMIT %(limit)s"
        args["limit"] = query.limit
    return sql, args


def query_items(dsn: str, query: SnapshotQuery) -> list[dict[str, Any]]:
    """The labelled items of ``query``, oldest first, as manifest entries without hashes."""
    sql, args = _select(query)
    try:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall()
    except psycopg2.Error as exc:
        raise SnapshotError(f"reading labels and media rows failed: {exc}") from exc
    items = []
    for item_id, device, session, at, source, boxes, species, uri, ctype, size, rate in reversed(rows):
        item: dict[str, Any] = {
            "id": item_id,
            "device_id": device,
            "captured_at": round(at.timestamp() * 1000),
            "label_source": source,
            "media_uri": uri,
            "content_type": ctype,
            "size_bytes": int(size),
        }
        if query.task == VISION.name:
            item["boxes"] = [{"class_name": b["class_name"], "xyxy": list(b["xyxy"])} for b in boxes or []]
        else:
            item.update(session_id=session, sample_rate=int(rate), species=list(species or []))
        items.append(item)
    return items


def content_hash(manifest: dict[str, Any]) -> str:
    """sha256 of what decides the dataset: task, split rule, and every item (URI excluded)."""
    items = [{k: v for k, v in it.items() if k != "media_uri"} for it in manifest["items"]]
    content = {"task": manifest["task"], "split": manifest["split"], "items": items}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def build_snapshot(dsn: str, archive_url: str, query: SnapshotQuery, out: Path) -> dict[str, Any]:
    """Build the snapshot of ``query`` and write its manifest to ``out`` (a ``.json`` file)."""
    started = time.monotonic()
    items = query_items(dsn, query)
    if not items:
        raise SnapshotError(f"no labelled {query.task} items with archived media as of {query.as_of}")
    archive = open_archive(archive_url)
    for item in items:
        item["sha256"] = hashlib.sha256(_fetch(archive, item["media_uri"])).hexdigest()
    for item, split in zip(
        items, assign_splits(items, query.seed, query.heldout_fraction, query.bucket_s), strict=True
    ):
        item["split"] = split
    splits = Counter(it["split"] for it in items)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "source": "snapshot",
        "task": query.task,
        "as_of": query.as_of.astimezone(UTC).isoformat(),
        "created_at": datetime.now(UTC).isoformat(),
        "query": {
            "since": query.since.astimezone(UTC).isoformat() if query.since else None,
            "devices": list(query.devices),
            "limit": query.limit,
        },
        "split": {
            "seed": query.seed,
            "heldout_fraction": query.heldout_fraction,
            "bucket_s": query.bucket_s,
            "rule": "sha256(f'{seed}:{device}:{captured_at_ms // (bucket_s * 1000)}') < heldout_fraction",
        },
        "archive": archive_url,
        "counts": {
            "items": len(items),
            TRAIN: splits[TRAIN],
            HELDOUT: splits[HELDOUT],
            "devices": len({it["device_id"] for it in items}),
            "label_sources": dict(Counter(it["label_source"] for it in items)),
            "classes": _class_counts(query.task, items),
        },
        "items": items,
    }
    manifest["manifest_sha256"] = content_hash(manifest)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    log.info(
        "snapshot built",
        extra={"items": len(items), "seconds": round(time.monotonic() - started, 1), "path": str(out)},
    )
    return manifest


def _class_counts(task: str, items: Sequence[dict[str, Any]]) -> dict[str, int]:
    if task == VISION.name:
        return dict(sorted(Counter(b["class_name"] for it in items for b in it["boxes"]).items()))
    return dict(sorted(Counter(s for it in items for s in it["species"]).items()))


def _fetch(archive: Archive, uri: str) -> bytes:
    try:
        return archive.get(uri)
    except Exception as exc:  # an ArchiveError, or a backend's own error
        raise SnapshotError(f"media {uri} is not readable from the archive: {exc}") from exc


def read_manifest(path: str | Path) -> dict[str, Any]:
    """A snapshot manifest (``path`` is the JSON file or a folder holding ``manifest.json``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"cannot read snapshot manifest {path}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise SnapshotError(f"{path} is not a {FORMAT} manifest")
    if content_hash(manifest) != manifest.get("manifest_sha256"):
        raise SnapshotError(f"{path} was edited: its content no longer matches manifest_sha256")
    return manifest


def _verified_media(archive: Archive, item: dict[str, Any]) -> bytes:
    data = _fetch(archive, item["media_uri"])
    if hashlib.sha256(data).hexdigest() != item["sha256"]:
        raise SnapshotError(f"media of {item['id']} changed since the snapshot ({item['media_uri']})")
    return data


def load_snapshot_datasets(
    path: str | Path, spec: ModelSpec
) -> tuple[VisionDataset | AudioDataset, VisionDataset | AudioDataset]:
    """(train, held-out) datasets of a snapshot for a model of ``spec`` (augmentation on train)."""
    manifest = read_manifest(path)
    archive = open_archive(manifest["archive"])
    parts: list[VisionDataset | AudioDataset] = []
    for split in (TRAIN, HELDOUT):
        items = [it for it in manifest["items"] if it["split"] == split]
        if not items:
            raise SnapshotError(f"the snapshot has no {split} items")
        if isinstance(spec.preprocess, VisionPreprocessConfig):
            parts.append(_vision_dataset(archive, items, spec, augment=split == TRAIN))
        else:
            parts.append(_audio_dataset(archive, items, spec, augment=split == TRAIN))
    return parts[0], parts[1]


def _vision_dataset(
    archive: Archive, items: list[dict[str, Any]], spec: ModelSpec, augment: bool
) -> VisionDataset:
    from training.data.simulated import VisionDataset

    pre = spec.preprocess
    assert isinstance(pre, VisionPreprocessConfig)
    index = {name: k for k, name in enumerate(spec.class_names)}
    # decoded straight at the model size: no full-size image is ever held, so no need to batch
    images = np.stack([decode_for_model(_verified_media(archive, it), pre) for it in items])
    boxes, classes, dropped = [], [], Counter[str]()
    for it in items:
        kept = [b for b in it["boxes"] if b["class_name"] in index]
        dropped.update(b["class_name"] for b in it["boxes"] if b["class_name"] not in index)
        boxes.append(np.array([b["xyxy"] for b in kept], dtype=np.float32).reshape(-1, 4))
        classes.append(np.array([index[b["class_name"]] for b in kept], dtype=np.int64))
    if dropped:
        log.warning("boxes of classes the model does not have were dropped", extra={"dropped": dict(dropped)})
    stride = spec.output_stride or 4
    return VisionDataset(
        images, boxes, classes, pre, spec.num_classes, (), output_stride=stride, flip=augment
    )


def _audio_dataset(
    archive: Archive, items: list[dict[str, Any]], spec: ModelSpec, augment: bool
) -> AudioDataset:
    from producers.replay.audio import resample_stream
    from training.data.simulated import AudioDataset

    pre = spec.preprocess
    assert isinstance(pre, AudioPreprocessConfig)
    index = {name: k for k, name in enumerate(spec.class_names)}
    targets = np.zeros((len(items), len(index)), dtype=np.float32)
    features = []
    for start in range(0, len(items), _DECODE_BATCH):
        waves = []
        for i, it in enumerate(items[start : start + _DECODE_BATCH], start=start):
            wave, rate = decode_audio(_verified_media(archive, it))
            if rate != pre.sample_rate:
                wave = np.concatenate(list(resample_stream([wave], rate, pre.sample_rate)))
            waves.append(wave)
            for species in it["species"]:
                if species in index:
                    targets[i, index[species]] = 1.0
        features.append(log_mel(waves, pre.sample_rate, pre))
    return AudioDataset(np.concatenate(features), targets, spec.class_names, (), time_shift=augment)


def parse_time(text: str) -> datetime:
    """``now``, ISO-8601 (naive = UTC) or epoch milliseconds -> an aware datetime."""
    if text == "now":
        return datetime.now(UTC)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = [
    "FORMAT",
    "SnapshotError",
    "SnapshotQuery",
    "assign_splits",
    "build_snapshot",
    "content_hash",
    "load_snapshot_datasets",
    "parse_time",
    "read_manifest",
    "split_groups",
    "split_score",
]
