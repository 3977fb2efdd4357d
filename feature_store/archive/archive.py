"""``Archive`` (interface), ``LocalArchive`` (a folder), ``open_archive`` (by URL).

Layout of a local archive (one file per frame or chunk, named by its id)::

    <root>/<kind>/<device_id>/<YYYY-MM-DD of captured_at, UTC>/<item_id><extension>

``kind`` is ``frames`` or ``audio``; ids are percent-encoded where they hold anything but
``A-Z a-z 0-9 - _ . = @ +`` (and a leading dot), so any id maps to one safe file name and back.
Media URIs are ``file://`` URIs of absolute paths.
"""

from __future__ import annotations

import os
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

#: content type -> file extension (the raw contracts' media types)
CONTENT_EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "audio/wav": ".wav",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
}
KINDS = ("frames", "audio")
_SAFE = "-_.=@+"


class ArchiveError(RuntimeError):
    """Media could not be stored or read (the cause is chained)."""


@dataclass(frozen=True)
class MediaItem:
    """What the archive needs to know to place one frame or chunk."""

    kind: str  # "frames" | "audio"
    item_id: str
    device_id: str
    captured_at: int  # UTC epoch ms
    content_type: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.item_id or not self.device_id:
            raise ValueError("item_id and device_id must not be empty")
        if self.content_type not in CONTENT_EXTENSIONS:
            raise ValueError(f"no archive extension for content type {self.content_type!r}")


class Archive(ABC):
    """Media stored by id. ``put`` is idempotent: the same item again leaves the same bytes."""

    @abstractmethod
    def uri_for(self, item: MediaItem) -> str:
        """The URI ``put`` stores ``item`` under (no I/O)."""

    @abstractmethod
    def put(self, item: MediaItem, data: bytes) -> str:
        """Store the bytes atomically (readers see all of them or nothing); return the media URI."""

    @abstractmethod
    def get(self, uri: str) -> bytes:
        """The bytes stored under ``uri``; :class:`ArchiveError` when there are none."""

    @abstractmethod
    def exists(self, uri: str) -> bool:
        """Whether ``uri`` holds media."""


def safe_name(item_id: str) -> str:
    """An id as one safe path component (reversible with ``urllib.parse.unquote``)."""
    name = quote(item_id, safe=_SAFE)
    return "%2E" + name[1:] if name.startswith(".") else name


class LocalArchive(Archive):
    """A folder on a local (or mounted) file system; ``fsync=True`` also survives power loss."""

    def __init__(self, root: Path, fsync: bool = False) -> None:
        self.root = Path(root).resolve()
        self.fsync = fsync

    def path_for(self, item: MediaItem) -> Path:
        day = time.strftime("%Y-%m-%d", time.gmtime(item.captured_at / 1000))
        name = safe_name(item.item_id) + CONTENT_EXTENSIONS[item.content_type]
        return self.root / item.kind / safe_name(item.device_id) / day / name

    def uri_for(self, item: MediaItem) -> str:
        return self.path_for(item).as_uri()

    def put(self, item: MediaItem, data: bytes) -> str:
        path = self.path_for(item)
        try:
            if path.exists() and path.stat().st_size == len(data):
                return path.as_uri()  # already archived (a replay): same id, same bytes
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
            try:
                with open(tmp, "wb") as fh:
                    fh.write(data)
                    if self.fsync:
                        fh.flush()
                        os.fsync(fh.fileno())
                os.replace(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise ArchiveError(f"archiving {item.kind} {item.item_id} to {path} failed: {exc}") from exc
        return path.as_uri()

    def _path(self, uri: str) -> Path:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            raise ArchiveError(f"a local archive reads file:// URIs, got {uri!r}")
        path = Path(unquote(parsed.path)).resolve()
        if not path.is_relative_to(self.root):
            raise ArchiveError(f"{uri} is outside the archive {self.root}")
        return path

    def get(self, uri: str) -> bytes:
        path = self._path(uri)
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ArchiveError(f"reading {uri} failed: {exc}") from exc

    def exists(self, uri: str) -> bool:
        return self._path(uri).is_file()


def open_archive(url: str | Path, fsync: bool = False) -> Archive:
    """``file:///abs/path`` or a plain path -> :class:`LocalArchive`. ``s3://`` is the documented
    extension point (see the package docstring) and raises :class:`ArchiveError` for now."""
    text = str(url)
    parsed = urlparse(text)
    if parsed.scheme in ("", "file"):
        return LocalArchive(Path(unquote(parsed.path) if parsed.scheme else text), fsync=fsync)
    if parsed.scheme in ("s3", "s3a", "gs"):
        raise ArchiveError(f"{parsed.scheme}:// archives are an extension point, not built yet: {text}")
    raise ArchiveError(f"unsupported archive URL {text!r}")
