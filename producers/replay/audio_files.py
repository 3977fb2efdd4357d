"""Replaying a folder of audio files as ``audio.raw.v1`` chunks (+ ``labels.v1``, ``source=dataset``).

Files (WAV, FLAC, OGG and whatever else libsndfile reads; any length, rate and channel count) are
found recursively and replayed in path order as 5 s, 32 kHz, mono PCM16 WAV chunks (see
:mod:`producers.replay.audio` for the maths and the tail rule). ``session_id`` is the file stem
(``<parent>-<stem>`` when two files share a stem), chunk ids ``<session>-c0000``, ``-c0001``, ...;
chunk ``k`` is ``captured_at = t0 + 5000 * k`` with ``t0`` the wall clock when the file is opened.
With BirdCLEF metadata (:mod:`producers.replay.birdclef`) every chunk of a listed file gets the
file's species (weak labels). An undecodable file is reported and skipped; a file that fails
midway keeps the chunks already published and is reported with how many there were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import soundfile

from fieldstream.contracts import AudioRecord, ContractError, encode_audio
from fieldstream.contracts.raw_media import DEFAULT_MAX_PAYLOAD
from fieldstream.modality import AUDIO, AUDIO_SAMPLE_RATE
from producers.clock import now_ms
from producers.config import AUDIO_CHUNK_MS
from producers.errors import DatasetError
from producers.labels import chunk_label, label_record
from producers.records import Outgoing, SkippedInput, SourceItem
from producers.replay.audio import MIN_TAIL_SECONDS, expected_chunks, file_chunks
from producers.replay.birdclef import BirdclefLabels
from producers.soundscape import encode_wav

#: Files with these suffixes are replayed (and reported when they cannot be decoded).
AUDIO_SUFFIXES = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3"})
_DECODE_ERRORS = (RuntimeError, ValueError, TypeError, OSError, EOFError)


def find_audio_files(root: Path) -> list[Path]:
    """Audio files under ``root`` (recursively), in path order."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)


def session_ids(files: list[Path]) -> dict[Path, str]:
    """File -> session id: the stem, or ``<parent>-<stem>`` (then the relative path) when not unique."""
    out: dict[Path, str] = {}
    used: set[str] = set()
    for path in files:
        for candidate in (path.stem, f"{path.parent.name}-{path.stem}", path.with_suffix("").as_posix()):
            if candidate not in used:
                break
        used.add(candidate)
        out[path] = candidate
    return out


def estimate_chunks(files: list[Path]) -> int:
    """Chunks the files will give, from their headers (unreadable headers count 0; for progress only)."""
    total = 0
    for path in files:
        try:
            info = soundfile.info(str(path))
        except _DECODE_ERRORS:
            continue
        if info.frames > 0 and info.samplerate > 0:
            total += expected_chunks(info.frames, info.samplerate)
    return total


def replay_audio(
    root: Path,
    device_id: str,
    *,
    files: list[Path] | None = None,
    birdclef: BirdclefLabels | None = None,
    labels: bool = True,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    clock_ms: Callable[[], int] = now_ms,
) -> Iterator[SourceItem]:
    """Chunks of every file, file after file."""
    files = find_audio_files(root) if files is None else files
    sessions = session_ids(files)
    for path in files:
        session = sessions[path]
        species = birdclef.species_for(path, root) if (labels and birdclef is not None) else None
        start_ms = clock_ms()
        published = 0
        try:
            for index, chunk in enumerate(file_chunks(path, AUDIO_SAMPLE_RATE)):
                chunk_id = f"{session}-c{index:04d}"
                captured_at = start_ms + index * AUDIO_CHUNK_MS
                wav = encode_wav(chunk, AUDIO_SAMPLE_RATE)
                audio = AudioRecord(device_id, chunk_id, session, captured_at, AUDIO_SAMPLE_RATE, wav)
                record = encode_audio(audio, max_payload)
                label = None
                if species is not None:
                    label = label_record(
                        chunk_label(device_id, chunk_id, session, captured_at, species, "dataset")
                    )
                yield Outgoing(AUDIO.raw_topic, record, label)
                published += 1
        except (*_DECODE_ERRORS, ContractError) as exc:
            reason = (
                f"cannot decode: {exc}"
                if published == 0
                else f"decoding failed after {published} chunks: {exc}"
            )
            yield SkippedInput(str(path), reason)
            continue
        if published == 0:
            yield SkippedInput(str(path), f"shorter than {MIN_TAIL_SECONDS:g} s: no chunk")
