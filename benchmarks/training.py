"""Benchmark training: DDP throughput with 1 vs 2 processes, and time to the quality bar.

Prints one JSON object. Every figure comes from ``fieldstream train TASK --json`` (torchrun, the real
trainer), as a user runs it:

- ``throughput.<task>``: training samples/s of one epoch of ``--steps`` optimiser steps at the
  task's default global batch, with 1 process (all cores' threads) and 2 processes (cores / 2
  threads each), same data, same global batch; ``speedup`` = 2-process / 1-process samples/s. Only
  the optimiser steps are timed (rank 0's epoch time), not data preparation or evaluation.
- ``quality.<task>``: the task's DEFAULT config (``training.config.DEFAULTS``), 1 process:
  ``seconds_to_bar`` = time from the start of the training process (data preparation included)
  to the end of the first epoch whose held-out metric reaches the bar (vision mAP@0.5 >= 0.85, audio
  macro ROC-AUC >= 0.95; held-out data from other simulator seeds), ``wall_s`` for the whole
  command (registration and gate included), and the final held-out metrics of the exported model.

Starts its own stack (Kafka, PostgreSQL, Redis, MLflow) in a temporary folder and stops it at the
end, unless ``--no-mlflow`` (untracked runs, no stack) or ``--data-dir`` (an existing stack).
``--quick`` shrinks everything to a smoke run (a few steps; tiny quality runs that are not expected
to reach the bar; ~10 min on a busy 2-core machine, mostly process start and data preparation).
The full run took 15 min on the 2-core development machine at load average 2-5 (longer when busier).

    .venv/bin/python benchmarks/training.py [--quick] [--tasks audio vision] [--no-mlflow]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file (named like the
# package) would shadow `training`.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from app.stack.local_stack import LocalStack
from training.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
BARS = {"vision": ("map50", 0.85), "audio": ("macro_roc_auc", 0.95)}


def train(data_dir: Path, task: str, args: list[str], tracked: bool) -> tuple[dict, float]:
    """Run ``fieldstream train TASK --json ARGS``; return the result and the command's wall time."""
    env = {**os.environ, "FIELDSTREAM_DATA_DIR": str(data_dir), "FIELDSTREAM_LOG_LEVEL": "warning"}
    extra = [] if tracked else ["--no-mlflow"]
    cmd = [sys.executable, "-m", "app", "train", task, "--json", *args, *extra]
    t0 = time.monotonic()
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:])} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout[out.stdout.index("{") :]), wall


def throughput(data_dir: Path, task: str, steps: int, tracked: bool) -> dict:
    batch = int(DEFAULTS[task]["global_batch"])
    common = ["--epochs", "1", "--max-steps-per-epoch", str(steps), "--batch-size", str(batch)]
    common += ["--train-size", str(steps * batch), "--heldout-size", "16", "--no-register"]
    out: dict = {"global_batch": batch, "steps": steps}
    for nproc in (1, 2):
        result, wall = train(data_dir, task, [*common, "--nproc", str(nproc)], tracked)
        seconds = result["history"][0]["seconds"]
        out[f"nproc_{nproc}"] = {
            "samples_per_s": round(steps * batch / seconds, 2),
            "step_s": round(seconds / steps, 3),
            "threads_per_process": max(1, (os.cpu_count() or 1) // nproc),
            "wall_s": round(wall, 1),
        }
    out["speedup"] = round(out["nproc_2"]["samples_per_s"] / out["nproc_1"]["samples_per_s"], 3)
    return out


def quality(data_dir: Path, task: str, quick: bool, tracked: bool) -> dict:
    metric, bar = BARS[task]
    args = ["--epochs", "2", "--train-size", "64", "--heldout-size", "32"] if quick else []
    if tracked:
        args += ["--no-gate"] if quick else []
    else:
        args += ["--no-register"]
    result, wall = train(data_dir, task, args, tracked)
    reached = next((h for h in result["history"] if h.get(metric, 0.0) >= bar), None)
    return {
        "config": "quick smoke config" if quick else {**DEFAULTS[task], "nproc": 1},
        "bar": {metric: bar},
        "reached": reached is not None,
        "epoch_to_bar": reached["epoch"] if reached else None,
        "seconds_to_bar": reached.get("elapsed_s") if reached else None,
        "epochs_run": result["epochs"],
        "best_epoch": result["best_epoch"],
        "stop_reason": result.get("stop_reason"),
        "train_seconds": result["train_seconds"],
        "wall_s": round(wall, 1),
        "final_heldout_metrics": {k: round(v, 4) for k, v in result["metrics"].items() if "/" not in k},
        "per_epoch": [
            {k: h[k] for k in ("epoch", "train_loss", metric, "elapsed_s") if k in h}
            for h in result["history"]
        ],
        "onnx_parity_max_abs_diff": result["onnx_parity_max_abs_diff"],
        "gate": result.get("gate"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (minutes), not the measurement")
    parser.add_argument("--tasks", nargs="+", choices=tuple(BARS), default=["audio", "vision"])
    parser.add_argument(
        "--steps", type=int, default=None, help="optimiser steps per throughput run (30; quick 4)"
    )
    parser.add_argument("--no-mlflow", action="store_true", help="untracked runs: no stack is started")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="use this running stack instead of a new one"
    )
    args = parser.parse_args()
    steps = args.steps or (4 if args.quick else 30)
    tracked = not args.no_mlflow
    temp = Path(tempfile.mkdtemp(prefix="fs-bench-train-"))
    data_dir = args.data_dir or temp
    stack = LocalStack(data_dir) if tracked and args.data_dir is None else None
    report: dict = {
        "benchmark": "training",
        "quick": args.quick,
        "cpu_count": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "mlflow": tracked,
    }
    started = time.monotonic()
    try:
        if stack is not None:
            stack.up(timeout_s=240)
        report["throughput"] = {t: throughput(data_dir, t, steps, tracked) for t in args.tasks}
        report["quality"] = {t: quality(data_dir, t, args.quick, tracked) for t in args.tasks}
    finally:
        if stack is not None:
            stack.down()
        shutil.rmtree(temp, ignore_errors=True)
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["total_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
