"""The media archive: raw frames and soundscape chunks stored by id, exactly as they were published.

:class:`Archive` is the interface, :class:`LocalArchive` the local-folder implementation
(``<data_dir>/media/`` by default), :func:`open_archive` picks one from a URL. Files are written to a
temporary name and renamed into place, so a reader never sees a partial file. The archive's metadata
(device, times, media URI, content type, size) lives in the history tables ``frames`` and
``audio_chunks``, so a dataset can be rebuilt from history alone.

Extension point: an S3-compatible archive (``s3://bucket/prefix``) implements the same four methods
(``uri_for``, ``put``, ``get``, ``exists``) with a multipart-free ``PutObject`` (objects are atomic),
and :func:`open_archive` returns it for ``s3://`` URLs. It is not built yet.
"""

from feature_store.archive.archive import (
    CONTENT_EXTENSIONS,
    Archive,
    ArchiveError,
    LocalArchive,
    MediaItem,
    open_archive,
)

__all__ = ["CONTENT_EXTENSIONS", "Archive", "ArchiveError", "LocalArchive", "MediaItem", "open_archive"]
