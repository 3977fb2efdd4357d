"""``fieldstream demo``: start the local stack and run the whole pipeline on simulated devices,
then say what happened. The stages are in :mod:`app.demo.stages` (imported when the demo runs:
``fieldstream --help`` stays light)."""

from __future__ import annotations

import argparse
from pathlib import Path

from fieldstream.settings import load_settings


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
    from app.demo.stages import STAGES, DemoRun, stop_services
    from app.stack.local_stack import LocalStack

    settings = load_settings(data_dir=args.data_dir)
    stack = LocalStack(settings.data_dir)
    print(f"1. local stack in {stack.data_dir}", flush=True)
    report = stack.up(progress=lambda m: print(f"  {m}", flush=True))
    print(f"  healthy in {report.seconds:.1f} s; history store: {report.postgres_backend}", flush=True)
    run = DemoRun(load_settings(data_dir=args.data_dir), args.frames, args.chunks)
    try:
        for number, (title, stage) in enumerate(STAGES, start=2):
            print(f"{number}. {title}", flush=True)
            stage(run)
    finally:
        stop_services(run)
    print(
        'done. The stack keeps running: eval "$(fieldstream stack env)", then kcat, psql and curl as in the'
        " README; `fieldstream stack down` stops it.",
        flush=True,
    )
    return 0
