"""Reading a YOLO-format image dataset: class names, images, label files, image checks.

Layout (the Ultralytics convention)::

    DIR/data.yaml                 names: [crop, weed]   or   names: {0: crop, 1: weed}
    DIR/images/**/<stem>.jpg      (or images directly under DIR)
    DIR/labels/**/<stem>.txt      one line per object: ``class cx cy w h`` (normalised 0..1)

A label file is looked up at the image's path with ``images`` replaced by ``labels`` (mirrored
sub-folders), then by a unique stem anywhere under ``DIR/labels``, then next to the image. When the
dataset has label files at all, an image without one is a *negative* (no objects: an empty box
list is published); without any label files no labels are published. Lines with more than five
numbers are segmentation polygons (``class x1 y1 x2 y2 ...``) and become their bounding box.
Coordinates are clamped to 0..1.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from PIL import Image, UnidentifiedImageError

from fieldstream.contracts import IMAGE_TYPES
from producers.errors import DatasetError, SkipInputError
from producers.labels import LabelBox

#: Files with these suffixes are treated as images (and reported when they cannot be published).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"})


def parse_names(doc: object) -> dict[int, str]:
    """``names`` of a data.yaml document (a list, or a dict ``{id: name}``) as ``{id: name}``."""
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, list):
        return {i: str(name) for i, name in enumerate(names)}
    if isinstance(names, dict):
        try:
            return {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"data.yaml names keys must be class ids: {exc}") from exc
    raise DatasetError("data.yaml has no 'names' list or mapping")


def read_class_names(path: Path) -> dict[int, str]:
    """Class names from ``data.yaml``."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return parse_names(doc)


def yolo_to_xyxy(cx: float, cy: float, w: float, h: float) -> tuple[float, float, float, float]:
    """Centre/size (normalised) -> corners, clamped to 0..1."""

    def unit(v: float) -> float:
        return min(1.0, max(0.0, v))

    return (unit(cx - w / 2), unit(cy - h / 2), unit(cx + w / 2), unit(cy + h / 2))


def parse_label_text(text: str, names: dict[int, str], where: str = "label file") -> list[LabelBox]:
    """The boxes of one YOLO label file; :class:`SkipInputError` on a malformed line."""
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            class_id = int(float(fields[0]))
            values = [float(v) for v in fields[1:]]
        except ValueError:
            raise SkipInputError(where, f"line {number} is not numbers: {line.strip()[:60]!r}") from None
        if class_id < 0 or float(fields[0]) != class_id:
            raise SkipInputError(
                where, f"line {number}: class id {fields[0]!r} is not a non-negative integer"
            )
        if len(values) == 4:
            xyxy = yolo_to_xyxy(*values)
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = values[0::2], values[1::2]
            xyxy = yolo_to_xyxy(
                (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, max(xs) - min(xs), max(ys) - min(ys)
            )
        else:
            raise SkipInputError(
                where, f"line {number}: expected 'class cx cy w h', got {len(fields)} fields"
            )
        boxes.append(LabelBox(class_id, names.get(class_id, str(class_id)), xyxy))
    return boxes


def sniff_image(data: bytes) -> str | None:
    """The content type of image bytes by their magic bytes (JPEG or PNG), else None."""
    for content_type, magics in IMAGE_TYPES.items():
        if data.startswith(magics):
            return content_type
    return None


def check_image(data: bytes, where: str) -> str:
    """Content type of a publishable image; :class:`SkipInputError` when unsupported or not decodable."""
    content_type = sniff_image(data)
    if content_type is None:
        try:
            with Image.open(io.BytesIO(data)) as image:
                found = image.format or "unknown"
        except (UnidentifiedImageError, OSError):
            found = "not an image"
        raise SkipInputError(where, f"unsupported image type ({found}); frames.raw.v1 carries JPEG or PNG")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # full decode: truncated or corrupt data fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise SkipInputError(where, f"corrupt {content_type}: {exc}") from None
    return content_type


@dataclass(frozen=True)
class YoloDataset:
    """A YOLO folder: class names, images in a stable order, and where each image's labels are."""

    root: Path
    names: dict[int, str]
    images: tuple[Path, ...]
    label_files: tuple[Path, ...]

    @classmethod
    def open(cls, root: Path) -> YoloDataset:
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"{root} is not a folder")
        data_yaml = next((p for p in (root / "data.yaml", root / "data.yml") if p.exists()), None)
        names = read_class_names(data_yaml) if data_yaml else {}
        image_root = root / "images" if (root / "images").is_dir() else root
        images = tuple(
            sorted(p for p in image_root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        )
        labels_root = root / "labels"
        label_files = tuple(sorted(labels_root.rglob("*.txt"))) if labels_root.is_dir() else ()
        return cls(root, names, images, label_files)

    @property
    def has_labels(self) -> bool:
        return bool(self.label_files)

    def image_id(self, image: Path) -> str:
        """A stable id for the image: its path under ``images/`` (or the root) without the suffix."""
        base = self.root / "images" if (self.root / "images").is_dir() else self.root
        return image.relative_to(base).with_suffix("").as_posix()

    @cached_property
    def _by_stem(self) -> dict[str, list[Path]]:
        index: dict[str, list[Path]] = defaultdict(list)
        for path in self.label_files:
            index[path.stem].append(path)
        return index

    def label_path(self, image: Path) -> Path | None:
        """The label file of ``image`` (see the module docstring for the lookup order), or None."""
        mirrored = self.root / "labels" / (self.image_id(image) + ".txt")
        if mirrored.is_file():
            return mirrored
        candidates = self._by_stem.get(image.stem, [])
        if len(candidates) == 1:
            return candidates[0]
        beside = image.with_suffix(".txt")
        return beside if beside.is_file() else None

    def boxes(self, image: Path) -> list[LabelBox] | None:
        """The image's boxes; ``[]`` for a negative; None when the dataset has no labels at all."""
        path = self.label_path(image)
        if path is None:
            return [] if self.has_labels else None
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise SkipInputError(str(path), f"cannot read label file: {exc}") from exc
        return parse_label_text(text, self.names, str(path))

    def __iter__(self) -> Iterator[Path]:
        return iter(self.images)
