"""``fieldstream train vision|audio|snapshot``: distributed training under torchrun, tracked in MLflow,
and dataset snapshots from the offline store.

Light at import (``fieldstream --help`` imports it): the defaults it shows come from
:mod:`training.config` and :mod:`training.gate` (no torch, numpy or mlflow); torch starts in torchrun.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

from fieldstream.settings import load_settings
from training.config import (
    DEFAULTS,
    SNAPSHOT_BUCKET_S,
    SNAPSHOT_HELDOUT_FRACTION,
    SNAPSHOT_SPLIT_SEED,
    TASK_MODELS,
    TASKS,
    TrainConfig,
)
from training.gate import AUDIO_GATE, VISION_GATE


def register(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train",
        help="train a model with PyTorch DDP, export ONNX, register in MLflow, gate and promote",
        description="Train the crop/weed detector (vision) or the species classifier (audio) under torchrun"
        " (DistributedDataParallel: gloo on CPU, NCCL on GPU), or build a dataset snapshot from the"
        " offline store (snapshot). See training/README.md.",
    )
    kinds = train.add_subparsers(dest="task", required=True, metavar="TASK")
    common = _training_options()
    for task, what in TASK_MODELS.items():
        p = kinds.add_parser(
            task,
            parents=[common],
            help=f"train {what}",
            description=f"Train {what}. Rank 0 logs to MLflow, exports ONNX (parity checked), registers a"
            " version, scores it and the champion on the same held-out data and promotes it only when the"
            " gate passes. Data: the simulators (default; train and held-out from different seeds), an"
            " offline-store snapshot (--snapshot) or a dataset folder (--dataset).",
        )
        p.set_defaults(handler=_train)
    _snapshot_parser(kinds)


def _training_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    run = p.add_argument_group("run")
    run.add_argument("--nproc", type=int, default=1, help="DDP processes on this node (default 1)")
    run.add_argument(
        "--threads", type=int, default=None, help="torch threads per process (default cores/nproc)"
    )
    run.add_argument("--epochs", type=int, default=None, help="epochs (default: the task's)")
    run.add_argument("--batch-size", type=int, default=None, help="global batch over all processes")
    run.add_argument("--lr", type=float, default=None, help="peak learning rate (one-cycle)")
    run.add_argument(
        "--seed", type=int, default=TrainConfig.train_seed, help="training seed (held-out uses other seeds)"
    )
    run.add_argument(
        "--time-budget-min",
        type=float,
        default=None,
        help="start no epoch that would end past this many minutes (default: the task's,"
        f" {_budget_minutes()})",
    )
    run.add_argument(
        "--patience",
        type=int,
        default=TrainConfig.patience,
        help="early stop after N epochs without improvement",
    )
    run.add_argument("--resume", action="store_true", help="continue the interrupted run (same MLflow run)")
    run.add_argument("--max-steps-per-epoch", type=int, default=None, help=argparse.SUPPRESS)
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    data = p.add_argument_group("data (default: the simulators)")
    data.add_argument("--train-size", type=int, default=None, help="simulated training examples")
    data.add_argument("--heldout-size", type=int, default=None, help="simulated held-out examples")
    source = data.add_mutually_exclusive_group()
    source.add_argument(
        "--snapshot", type=Path, default=None, help="a snapshot manifest from `fieldstream train snapshot`"
    )
    source.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="a YOLO image folder (vision) or a BirdCLEF-style audio folder with train.csv (audio)",
    )
    data.add_argument(
        "--heldout-fraction",
        type=float,
        default=TrainConfig.heldout_fraction,
        help=f"--dataset share held out (default {TrainConfig.heldout_fraction})",
    )
    reg = p.add_argument_group("registry and gate")
    reg.add_argument("--experiment", default=None, help="MLflow experiment (default fieldstream-TASK)")
    reg.add_argument(
        "--model-name", default=None, help="registered model (default vision-detector / audio-classifier)"
    )
    reg.add_argument("--no-register", action="store_true", help="do not register the model in MLflow")
    reg.add_argument(
        "--no-mlflow", action="store_true", help="no MLflow at all (no server needed; implies --no-register)"
    )
    reg.add_argument("--no-gate", action="store_true", help="register but do not evaluate/promote")
    reg.add_argument(
        "--gate-floor",
        type=float,
        default=None,
        help=f"override the floor (vision {VISION_GATE.floor} mAP@0.5, audio {AUDIO_GATE.floor} AUC)",
    )
    reg.add_argument(
        "--gate-margin", type=float, default=None, help="override the tolerated drop below the champion"
    )
    reg.add_argument(
        "--no-quantize",
        action="store_true",
        help="no int8 model (default: a static int8 model, calibrated on training inputs, ships with the"
        " version for CPU serving when its held-out gate metric is within --int8-max-drop)",
    )
    reg.add_argument(
        "--int8-max-drop",
        type=float,
        default=TrainConfig.int8_max_drop,
        help="largest drop of the gate metric (mAP@0.5 or AUC) at which the int8 model ships"
        f" ({TrainConfig.int8_max_drop})",
    )
    return p


def _snapshot_parser(kinds: argparse._SubParsersAction) -> None:
    p = kinds.add_parser(
        "snapshot",
        help="build a dataset snapshot (labels + archived media as of a time) from the offline store",
        description="Read labelled frames (vision) or chunks (audio) from PostgreSQL as they stood at"
        " --as-of, hash their archived media, split them by device and time bucket with a fixed seed, and"
        " write a JSON manifest. Train on it with `fieldstream train TASK --snapshot PATH`.",
    )
    p.add_argument("kind", choices=TASKS, metavar="TASK", help="vision or audio")
    p.add_argument("--out", type=Path, required=True, help="the manifest file to write (JSON)")
    p.add_argument("--as-of", default="now", help="now, ISO-8601 (naive = UTC) or epoch ms (default now)")
    p.add_argument("--since", default=None, help="only items captured at or after this time")
    p.add_argument("--device", action="append", default=[], help="only this device (repeatable)")
    p.add_argument("--limit", type=int, default=None, help="only the newest N items")
    p.add_argument(
        "--heldout-fraction",
        type=float,
        default=SNAPSHOT_HELDOUT_FRACTION,
        help=f"share of groups held out ({SNAPSHOT_HELDOUT_FRACTION})",
    )
    p.add_argument(
        "--split-seed",
        type=int,
        default=SNAPSHOT_SPLIT_SEED,
        help=f"seed of the split hash (default {SNAPSHOT_SPLIT_SEED})",
    )
    p.add_argument(
        "--bucket-s",
        type=int,
        default=SNAPSHOT_BUCKET_S,
        help=f"time bucket of a split group, seconds ({SNAPSHOT_BUCKET_S})",
    )
    p.add_argument("--archive", default=None, help="media archive folder or URL (default DATA_DIR/media)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=_snapshot)


def _budget_minutes() -> str:
    """The tasks' default time budgets in minutes, e.g. ``17``."""
    minutes = sorted({f"{d['time_budget_s'] / 60:g}" for d in DEFAULTS.values()})
    return "/".join(minutes)


def build_config(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings()
    values: dict[str, Any] = dict(DEFAULTS[args.task])
    chosen = {
        "epochs": args.epochs,
        "global_batch": args.batch_size,
        "lr": args.lr,
        "train_size": args.train_size,
        "heldout_size": args.heldout_size,
        "time_budget_s": args.time_budget_min * 60 if args.time_budget_min else None,
    }
    values.update({k: v for k, v in chosen.items() if v is not None})
    values.update(
        task=args.task,
        nproc=args.nproc,
        threads=args.threads,
        train_seed=args.seed,
        patience=args.patience,
        resume=args.resume,
        max_steps_per_epoch=args.max_steps_per_epoch,
        experiment=args.experiment,
        model_name=args.model_name,
        track=not args.no_mlflow,
        register=not (args.no_register or args.no_mlflow),
        gate=not args.no_gate,
        gate_floor=args.gate_floor,
        gate_margin=args.gate_margin,
        quantize=not args.no_quantize,
        int8_max_drop=args.int8_max_drop,
        heldout_fraction=args.heldout_fraction,
        checkpoint_dir=str((settings.data_dir / "checkpoints").resolve()),
    )
    if args.snapshot:
        values.update(source="snapshot", snapshot=str(args.snapshot.resolve()))
    if args.dataset:
        from training.data.folders import DatasetFolderError, dataset_class_names

        try:
            names = dataset_class_names(args.task, args.dataset)
        except DatasetFolderError as exc:
            raise ValueError(str(exc)) from exc
        values.update(source="dataset", dataset=str(args.dataset.resolve()), class_names=names)
    return values


def _train(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="fieldstream-train-"))
    try:
        config = TrainConfig(**build_config(args), output=str(work / "result.json"))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config.save(work / "config.json")
    # One node unless a launcher says otherwise: the Kubeflow training operator sets PET_NNODES,
    # PET_NODE_RANK, PET_MASTER_ADDR and PET_MASTER_PORT, which torchrun reads on its own.
    rendezvous = [] if os.environ.get("PET_NNODES") else ["--standalone"]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        *rendezvous,
        f"--nproc-per-node={config.nproc}",
        "-m",
        "training.ddp",
        "--config",
        str(work / "config.json"),
    ]
    threads = config.threads or max(1, (os.cpu_count() or 1) // config.nproc)
    # Passive OpenMP waiting: spinning threads on a shared, busy machine slow every op many times over.
    env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, "OMP_NUM_THREADS": str(threads)}
    try:
        code = _run_forwarding_signals(cmd, env)
        if code != 0:
            print(f"error: training failed or was stopped (torchrun exit {code})", file=sys.stderr)
            return code
        result = json.loads(Path(config.output or "").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    _print_result(result)
    return 0


def _run_forwarding_signals(cmd: list[str], env: dict[str, str]) -> int:
    """Run torchrun; SIGTERM/SIGINT go to it (it stops its workers); the last checkpoint stays."""
    proc = subprocess.Popen(cmd, env=env)

    def forward(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _print_result(result: dict[str, Any]) -> None:
    metrics = " ".join(f"{k}={v:.4f}" for k, v in result["metrics"].items() if "/" not in k and "." not in k)
    print(
        f"{result['model_name']}: {metrics} (ONNX parity max |diff| {result['onnx_parity_max_abs_diff']:.2e})"
    )
    stopped = f", stopped: {result['stop_reason']}" if result.get("stop_reason") else ""
    run = f"MLflow run {result['run_id']}" if result["run_id"] else "not tracked"
    print(
        f"  {result['epochs']} epochs in {result['train_seconds']:.0f} s, best epoch {result['best_epoch']}"
        f"{stopped}; {run}"
    )
    if "version" in result:
        print(f"  registered {result['uri']}")
    if "gate" in result:
        verdict = "PROMOTED to champion" if result["gate"]["passed"] else "not promoted"
        print(f"  gate: {verdict}: {result['gate']['reason']}")
    print(f"  TensorRT: {result['tensorrt']['reason']}")


def _snapshot(args: argparse.Namespace) -> int:
    from training.data.snapshot import SnapshotError, SnapshotQuery, build_snapshot, parse_time

    settings = load_settings()
    try:
        query = SnapshotQuery(
            task=args.kind,
            as_of=parse_time(args.as_of),
            since=parse_time(args.since) if args.since else None,
            devices=tuple(args.device),
            limit=args.limit,
            seed=args.split_seed,
            heldout_fraction=args.heldout_fraction,
            bucket_s=args.bucket_s,
        )
        archive = args.archive or str((settings.data_dir / "media").resolve())
        manifest = build_snapshot(settings.postgres_dsn, archive, query, args.out)
    except (ValueError, SnapshotError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = {
        "path": str(args.out.resolve()),
        "manifest_sha256": manifest["manifest_sha256"],
        "as_of": manifest["as_of"],
        **manifest["counts"],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"snapshot {summary['path']}: {summary['items']} {args.kind} items ({summary['train']} train,"
            f" {summary['heldout']} held out) from {summary['devices']} devices as of {summary['as_of']};"
            f" manifest sha256 {summary['manifest_sha256'][:16]}"
        )
    return 0
