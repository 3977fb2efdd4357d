"""The simulators of a run's devices, rendering :class:`~producers.record_blocks.RecordBlock` s into
ready-to-send records: media (+ ``labels.v1`` ground truth), no Kafka client.

:class:`DeviceSimulators` holds one simulator per device of a started
:class:`~producers.device_runs.SimulatedRun`, built on first use and kept (iterating forward reuses
a camera's cached tiles); :class:`CameraSimulators` and :class:`RecorderSimulators` are its two
kinds, :func:`device_simulators` picks the one of a run. Every record is a pure function of the
run, the device and the record's index, so blocks may be rendered anywhere, in any order.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic, TypeVar

from fieldstream.contracts import AudioRecord, FrameRecord, encode_audio, encode_frame
from fieldstream.modality import AUDIO, VISION
from producers.device_runs import AudioRun, FrameRun, SimulatedRun
from producers.field_camera import FieldCameraConfig, FieldCameraSimulator, SimulatedFrame, encode_jpeg
from producers.labels import LabelBox, chunk_label, frame_label, label_record
from producers.record_blocks import RecordBlock
from producers.records import Outgoing
from producers.soundscape import SimulatedChunk, SoundscapeConfig, SoundscapeSimulator

RunT = TypeVar("RunT", bound=SimulatedRun)
ConfigT = TypeVar("ConfigT")
SimulatorT = TypeVar("SimulatorT")


def frame_outgoing(frame: SimulatedFrame, jpeg_quality: int, labels: bool, max_payload: int) -> Outgoing:
    """One simulated frame as a ``frames.raw.v1`` record (JPEG) (+ its ``labels.v1`` record)."""
    record = FrameRecord(
        device_id=frame.device_id,
        frame_id=frame.frame_id,
        captured_at=frame.captured_at_ms,
        content_type="image/jpeg",
        image=encode_jpeg(frame.image, jpeg_quality),
        lat=frame.lat,
        lon=frame.lon,
        speed_mps=frame.speed_mps,
        boom_offset_m=frame.boom_offset_m,
    )
    label = None
    if labels:
        boxes = [LabelBox(b.class_id, b.class_name, (b.x1, b.y1, b.x2, b.y2), b.kind) for b in frame.boxes]
        message = frame_label(frame.device_id, frame.frame_id, frame.captured_at_ms, boxes, "simulator")
        label = label_record(message)
    return Outgoing(VISION.raw_topic, encode_frame(record, max_payload), label)


def chunk_outgoing(chunk: SimulatedChunk, labels: bool, max_payload: int) -> Outgoing:
    """One simulated chunk as an ``audio.raw.v1`` record (PCM16 WAV) (+ its ``labels.v1`` record)."""
    record = AudioRecord(
        device_id=chunk.device_id,
        chunk_id=chunk.chunk_id,
        session_id=chunk.session_id,
        captured_at=chunk.captured_at_ms,
        sample_rate=chunk.sample_rate,
        audio=chunk.to_wav(),
    )
    label = None
    if labels:
        message = chunk_label(
            chunk.device_id,
            chunk.chunk_id,
            chunk.session_id,
            chunk.captured_at_ms,
            chunk.species,
            "simulator",
        )
        label = label_record(message)
    return Outgoing(AUDIO.raw_topic, encode_audio(record, max_payload), label)


class DeviceSimulators(ABC, Generic[RunT, ConfigT, SimulatorT]):
    """A simulator per device of a started run; called with a block, renders its records.

    The devices' configs are built (and so the run's options checked) at construction; the
    simulators themselves on first use.
    """

    def __init__(self, run: RunT) -> None:
        if run.start_time_ms is None:
            raise ValueError("the run must be started (start_time_ms fixed)")
        self.run = run
        self.configs = [self.config(device, run.start_time_ms) for device in run.device_ids()]
        self._simulators: dict[int, SimulatorT] = {}

    @abstractmethod
    def config(self, device_id: str, start_time_ms: int) -> ConfigT:
        """The simulator config of one device of the run."""

    @abstractmethod
    def new_simulator(self, config: ConfigT) -> SimulatorT: ...

    @abstractmethod
    def render(self, simulator: SimulatorT, start: int, count: int) -> list[Outgoing]:
        """Records ``start .. start + count - 1`` of one device."""

    def simulator(self, device: int) -> SimulatorT:
        found = self._simulators.get(device)
        if found is None:
            found = self._simulators[device] = self.new_simulator(self.configs[device])
        return found

    def __call__(self, block: RecordBlock) -> list[Outgoing]:
        return self.render(self.simulator(block.device), block.start, block.count)


class CameraSimulators(DeviceSimulators[FrameRun, FieldCameraConfig, FieldCameraSimulator]):
    """The boom cameras of a :class:`~producers.device_runs.FrameRun`."""

    def config(self, device_id: str, start_time_ms: int) -> FieldCameraConfig:
        run = self.run
        return FieldCameraConfig(
            device_id=device_id,
            width=run.width,
            height=run.height,
            fps=run.fps,
            speed_mps=run.speed_mps,
            seed=run.seed,
            jpeg_quality=run.jpeg_quality,
            new_weed_kind=run.new_weed_kind,
            season=run.season,
            drift_at_s=run.drift_at_s,
            start_time_ms=start_time_ms,
        )

    def new_simulator(self, config: FieldCameraConfig) -> FieldCameraSimulator:
        return FieldCameraSimulator(config)

    def render(self, simulator: FieldCameraSimulator, start: int, count: int) -> list[Outgoing]:
        run = self.run
        frames = simulator.frames(count, start=start)
        return [frame_outgoing(f, run.jpeg_quality, run.labels, run.max_payload) for f in frames]


class RecorderSimulators(DeviceSimulators[AudioRun, SoundscapeConfig, SoundscapeSimulator]):
    """The acoustic recorders of an :class:`~producers.device_runs.AudioRun`."""

    def config(self, device_id: str, start_time_ms: int) -> SoundscapeConfig:
        run = self.run
        return SoundscapeConfig(
            device_id=device_id,
            sessions=run.sessions,
            chunks_per_session=run.chunks_per_session,
            species_pool=run.species_pool,
            call_density=run.call_density,
            seed=run.seed,
            new_species=run.new_species,
            drift_at_s=run.drift_at_s,
            start_time_ms=start_time_ms,
        )

    def new_simulator(self, config: SoundscapeConfig) -> SoundscapeSimulator:
        return SoundscapeSimulator(config)

    def render(self, simulator: SoundscapeSimulator, start: int, count: int) -> list[Outgoing]:
        run = self.run
        chunks = (simulator.render_chunk(index) for index in range(start, start + count))
        return [chunk_outgoing(c, run.labels, run.max_payload) for c in chunks]


#: the simulators of each kind of run, by modality name
SIMULATORS: dict[str, type[DeviceSimulators]] = {
    FrameRun.modality.name: CameraSimulators,
    AudioRun.modality.name: RecorderSimulators,
}


def device_simulators(run: SimulatedRun) -> DeviceSimulators:
    """The simulators of a started run's devices; raises ``ValueError`` on bad options."""
    return SIMULATORS[run.modality.name](run)


def check_options(run: SimulatedRun) -> None:
    """Raise ``ValueError`` when the run's options are bad (before anything starts)."""
    device_simulators(run.started())
