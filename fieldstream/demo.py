"""``fieldstream demo``: start the local stack and run the pipeline on simulated devices, then say
what happened. Each stage is a small function; later stages (features, workers, agents, training)
are added to ``STAGES`` as they land.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Consumer, Producer

from fieldstream.kafka.config import consumer_config, producer_config
from fieldstream.kafka.routing import decode_or_deadletter, decoder_for
from fieldstream.settings import Settings, load_settings
from fieldstream.stack.runner import LocalStack
from fieldstream.topics import AUDIO_RAW, DEADLETTER, FRAMES_RAW


@dataclass
class DemoRun:
    settings: Settings
    frames: int
    chunks: int
    run_id: str = field(default_factory=lambda: time.strftime("%H%M%S"))
    lines: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(f"  {line}", flush=True)


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser(
        "demo",
        help="start the local stack and run the pipeline on simulated devices",
        description="Start the local stack, publish simulated frames and soundscape chunks, run them "
        "through the pipeline, and print what happened. The stack keeps running afterwards "
        "(stop it with `fieldstream stack down`).",
    )
    demo.add_argument("--frames", type=int, default=40, help="frames per simulated boom camera (default 40)")
    demo.add_argument("--chunks", type=int, default=12, help="5 s chunks per simulated recorder (default 12)")
    demo.add_argument("--data-dir", type=Path, default=None, help="stack folder (default ./.fieldstream)")
    demo.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = load_settings(data_dir=args.data_dir)
    stack = LocalStack(settings.data_dir)
    print(f"1. local stack in {stack.data_dir}", flush=True)
    report = stack.up(progress=lambda m: print(f"  {m}", flush=True))
    print(f"  healthy in {report.seconds:.1f} s; history store: {report.postgres_backend}", flush=True)
    run = DemoRun(load_settings(data_dir=args.data_dir), args.frames, args.chunks)
    for number, (title, stage) in enumerate(STAGES, start=2):
        print(f"{number}. {title}", flush=True)
        stage(run)
    print(
        'done. Try: eval "$(fieldstream stack env)";'
        " kcat -b $FIELDSTREAM_KAFKA_BOOTSTRAP -t frames.raw.v1 -C -e -f '%k %h\\n' | tail",
        flush=True,
    )
    return 0


def publish_simulated(run: DemoRun) -> None:
    """Two boom cameras and two acoustic recorders publish through ``fieldstream produce``."""
    from fieldstream.cli import main as cli

    base = ["--data-dir", str(run.settings.data_dir), "--quiet"]
    cli(
        [
            "produce",
            "frames",
            "--devices",
            "2",
            "--device-prefix",
            f"demo-boom-{run.run_id}",
            "--count",
            str(run.frames),
            *base,
        ]
    )
    cli(
        [
            "produce",
            "audio",
            "--devices",
            "2",
            "--device-prefix",
            f"demo-rec-{run.run_id}",
            "--chunks-per-session",
            str(run.chunks),
            *base,
        ]
    )
    # one malformed record: a frame without its capture time
    producer = Producer(producer_config(run.settings))
    producer.produce(
        FRAMES_RAW,
        key=b"demo-broken",
        value=b"\xff\xd8\xffnot-really-a-jpeg",
        headers=[
            ("schema", b"frame.v1"),
            ("device_id", b"demo-broken"),
            ("frame_id", b"x"),
            ("content_type", b"image/jpeg"),
        ],
    )
    producer.flush(30)
    run.say(f"published {2 * run.frames} frames, {2 * run.chunks} chunks (with labels) and 1 malformed frame")


def read_back(run: DemoRun) -> None:
    """A consumer decodes every record of this run; the malformed one goes to the dead-letter topic."""
    consumer = Consumer(consumer_config(run.settings, f"demo-{run.run_id}"))
    consumer.subscribe([FRAMES_RAW, AUDIO_RAW])
    producer = Producer(producer_config(run.settings))
    counts: Counter[str] = Counter()
    want = 2 * run.frames + 2 * run.chunks + 1
    deadline = time.monotonic() + 60
    while sum(counts.values()) < want and time.monotonic() < deadline:
        msg = consumer.poll(0.5)
        if msg is None or msg.error():
            continue
        device = (msg.key() or b"").decode(errors="replace")
        if run.run_id not in device:
            continue
        decoded = decode_or_deadletter(
            msg, decoder_for(msg.topic() or "", run.settings.max_payload_bytes), producer
        )
        counts["dead-lettered" if decoded is None else msg.topic() or "?"] += 1
    consumer.close()
    producer.flush(10)
    run.say(
        f"decoded {counts[FRAMES_RAW]} frames and {counts[AUDIO_RAW]} chunks;"
        f" {counts['dead-lettered']} malformed record sent to {DEADLETTER}"
    )


STAGES: list[tuple[str, Callable[[DemoRun], None]]] = [
    ("simulated devices publish", publish_simulated),
    ("consume and validate", read_back),
]
