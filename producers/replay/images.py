"""Replaying a YOLO image folder as ``frames.raw.v1`` records (+ ``labels.v1`` with ``source=dataset``).

Images are published unchanged (the file's bytes; content type by magic bytes). A file that is not
JPEG/PNG, does not decode with PIL, is larger than the payload limit, or has a malformed label file
is yielded as a :class:`~producers.summary.SkippedInput` (reported once, even with ``loop``).
``frame_id`` is the image's path under ``images/`` without suffix (``train/img_001``), with
``-r<N>`` appended on the N-th repeat of a loop; ``captured_at`` is the wall clock when the image is
read (real UTC epoch ms).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from fieldstream.contracts import ContractError, FrameRecord, encode_frame
from fieldstream.contracts.raw_media import DEFAULT_MAX_PAYLOAD
from fieldstream.modality import VISION
from producers.clock import now_ms
from producers.errors import SkipInputError
from producers.labels import frame_label, label_record
from producers.records import Outgoing, SkippedInput, SourceItem
from producers.replay.yolo import YoloDataset, check_image


def _frame_item(
    dataset: YoloDataset,
    image: Path,
    device_id: str,
    frame_id: str,
    labels: bool,
    max_payload: int,
    clock_ms: Callable[[], int],
) -> Outgoing:
    try:
        data = image.read_bytes()
    except OSError as exc:
        raise SkipInputError(str(image), f"cannot read: {exc}") from exc
    content_type = check_image(data, str(image))
    boxes = dataset.boxes(image) if labels else None
    captured_at = clock_ms()
    try:
        record = encode_frame(FrameRecord(device_id, frame_id, captured_at, content_type, data), max_payload)
    except ContractError as exc:
        raise SkipInputError(str(image), str(exc)) from exc
    label = None
    if boxes is not None:
        label = label_record(frame_label(device_id, frame_id, captured_at, boxes, "dataset"))
    return Outgoing(VISION.raw_topic, record, label)


def replay_images(
    dataset: YoloDataset,
    device_id: str,
    *,
    loop: bool = False,
    labels: bool = True,
    max_payload: int = DEFAULT_MAX_PAYLOAD,
    clock_ms: Callable[[], int] = now_ms,
) -> Iterator[SourceItem]:
    """Every image of ``dataset`` in path order (again and again with ``loop``, until stopped)."""
    bad: set[Path] = set()
    repeat = 0
    while True:
        published = 0
        for image in dataset:
            if image in bad:
                continue
            frame_id = dataset.image_id(image) + (f"-r{repeat}" if repeat else "")
            try:
                yield _frame_item(dataset, image, device_id, frame_id, labels, max_payload, clock_ms)
                published += 1
            except SkipInputError as exc:
                bad.add(image)
                yield SkippedInput(exc.path, exc.reason)
        if not loop or published == 0:
            return
        repeat += 1
