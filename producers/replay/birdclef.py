"""BirdCLEF metadata: ``train.csv`` (file -> species) and ``taxonomy.csv`` (species id -> common name).

``train.csv`` has at least ``primary_label``, ``secondary_labels`` (a Python list literal such as
``"['amecro', 'bkcchi']"``) and ``filename`` (relative to ``train_audio/``, e.g.
``asbfly/XC134896.ogg``). A file's species are its primary label then its secondary labels.

**Weak labels**: BirdCLEF labels whole recordings, not 5 s segments, so every chunk of a file gets
the file's species list — a chunk where the bird is silent is still labelled with it. Downstream
training should treat ``labels.v1`` from ``source=dataset`` audio as weak (file-level) labels.
"""

from __future__ import annotations

import ast
import csv
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from producers.errors import DatasetError


def parse_secondary_labels(text: str | None) -> list[str]:
    """``"['a', 'b']"`` -> ``['a', 'b']``; empty, ``[]`` and ``['']`` -> ``[]``."""
    text = (text or "").strip()
    if not text:
        return []
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"secondary_labels is not a list literal: {text[:60]!r}") from exc
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"secondary_labels is not a list: {text[:60]!r}")
    return [str(v).strip() for v in value if str(v).strip()]


def read_train_csv(path: Path) -> dict[str, tuple[str, ...]]:
    """``filename`` (POSIX, as written) -> distinct species (primary first)."""
    out: dict[str, tuple[str, ...]] = {}
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"primary_label", "filename"} - set(reader.fieldnames or ())
            if missing:
                raise DatasetError(f"{path} lacks columns {sorted(missing)}")
            for line, row in enumerate(reader, start=2):
                try:
                    secondary = parse_secondary_labels(row.get("secondary_labels"))
                except ValueError as exc:
                    raise DatasetError(f"{path} line {line}: {exc}") from exc
                species = [row["primary_label"].strip(), *secondary]
                name = PurePosixPath(row["filename"].strip().replace("\\", "/")).as_posix()
                out[name] = tuple(dict.fromkeys(s for s in species if s))
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    return out


def read_taxonomy(path: Path) -> dict[str, str]:
    """``primary_label`` -> ``common_name`` (empty when the column is missing)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if "primary_label" not in (reader.fieldnames or ()):
                raise DatasetError(f"{path} lacks the primary_label column")
            return {row["primary_label"].strip(): (row.get("common_name") or "").strip() for row in reader}
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class BirdclefLabels:
    """File-level species of a BirdCLEF folder, looked up by the file's path."""

    by_filename: dict[str, tuple[str, ...]]
    common_names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def find(cls, root: Path) -> BirdclefLabels | None:
        """Read ``train.csv`` (+ ``taxonomy.csv``) from ``root`` or its parent; None when absent."""
        for folder in (root, root.parent):
            train = folder / "train.csv"
            if train.is_file():
                taxonomy = folder / "taxonomy.csv"
                names = read_taxonomy(taxonomy) if taxonomy.is_file() else {}
                return cls(read_train_csv(train), names)
        return None

    def species_for(self, path: Path, root: Path) -> tuple[str, ...] | None:
        """Species of the file at ``path``: the row whose ``filename`` is a path suffix of it."""
        try:
            parts = path.resolve().relative_to(root.resolve()).parts
        except ValueError:
            parts = path.parts
        for k in range(len(parts)):
            found = self.by_filename.get("/".join(parts[k:]))
            if found is not None:
                return found
        return None

    def unknown_species(self) -> set[str]:
        """Species in ``train.csv`` missing from ``taxonomy.csv`` (empty when there is no taxonomy)."""
        if not self.common_names:
            return set()
        return {s for species in self.by_filename.values() for s in species} - set(self.common_names)
