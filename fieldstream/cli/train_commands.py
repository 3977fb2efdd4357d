"""``fieldstream train vision|audio``: distributed training under torchrun, tracked in MLflow."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fieldstream.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser(
        "train",
        help="train a model with PyTorch DDP, export ONNX, register in MLflow, gate and promote",
        description="Train the crop/weed detector (vision) or the species classifier (audio) under torchrun"
        " (DistributedDataParallel: gloo on CPU, NCCL on GPU). Rank 0 logs to MLflow, exports ONNX (parity"
        " checked), registers a version, scores it and the champion on the same held-out data and promotes"
        " it only when the gate passes. Data: direct rendering from the simulators (train and held-out from"
        " different seeds) or an offline-store snapshot (`fieldstream train snapshot`).",
    )
    train.add_argument("task", choices=("vision", "audio"))
    train.add_argument("--nproc", type=int, default=1, help="DDP processes (default 1)")
    train.add_argument("--epochs", type=int, default=None, help="epochs (default: the task's)")
    train.add_argument("--batch-size", type=int, default=None, help="global batch over all processes")
    train.add_argument("--lr", type=float, default=None, help="peak learning rate (one-cycle)")
    train.add_argument("--train-size", type=int, default=None, help="simulated training examples")
    train.add_argument("--heldout-size", type=int, default=None, help="simulated held-out examples")
    train.add_argument("--seed", type=int, default=0, help="training seed (held-out uses other seeds)")
    train.add_argument(
        "--snapshot",
        type=Path,
        default=None,
        help="train from this offline-store snapshot manifest instead of the simulators",
    )
    train.add_argument("--time-budget-min", type=float, default=None, help="stop after this many minutes")
    train.add_argument(
        "--patience", type=int, default=6, help="early stop after N epochs without improvement"
    )
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--max-steps-per-epoch", type=int, default=None, help=argparse.SUPPRESS)
    train.add_argument("--no-register", action="store_true", help="do not register the model in MLflow")
    train.add_argument("--no-gate", action="store_true", help="register but do not evaluate/promote")
    train.add_argument("--quantize", action="store_true", help="also report a dynamic INT8 model's accuracy")
    train.add_argument("--json", action="store_true", help="print the result as JSON")
    train.set_defaults(handler=_train)


def build_config(args: argparse.Namespace) -> dict:
    from training.config import DEFAULTS

    settings = load_settings()
    values: dict = dict(DEFAULTS[args.task])
    chosen = {
        "epochs": args.epochs,
        "global_batch": args.batch_size,
        "lr": args.lr,
        "train_size": args.train_size,
        "heldout_size": args.heldout_size,
    }
    values.update({k: v for k, v in chosen.items() if v is not None})
    values.update(
        task=args.task,
        nproc=args.nproc,
        train_seed=args.seed,
        patience=args.patience,
        resume=args.resume,
        max_steps_per_epoch=args.max_steps_per_epoch,
        register=not args.no_register,
        gate=not args.no_gate,
        quantize=args.quantize,
        checkpoint_dir=str((settings.data_dir / "checkpoints").resolve()),
        time_budget_s=args.time_budget_min * 60 if args.time_budget_min else None,
    )
    if args.snapshot:
        values.update(source="snapshot", snapshot=str(args.snapshot.resolve()))
    return values


def _train(args: argparse.Namespace) -> int:
    from training.config import TrainConfig

    work = Path(tempfile.mkdtemp(prefix="fieldstream-train-"))
    config = TrainConfig(**build_config(args), output=str(work / "result.json"))
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
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 1) // config.nproc))}
    code = subprocess.call(cmd, env=env)
    if code != 0:
        print(f"error: training failed (torchrun exit {code})", file=sys.stderr)
        return code
    result = json.loads(Path(config.output or "").read_text())
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    metrics = " ".join(f"{k}={v:.4f}" for k, v in result["metrics"].items() if "/" not in k and "." not in k)
    print(
        f"{result['model_name']}: {metrics} (ONNX parity max |diff| {result['onnx_parity_max_abs_diff']:.2e})"
    )
    print(
        f"  {result['epochs']} epochs in {result['train_seconds']:.0f} s, best epoch {result['best_epoch']};"
        f" MLflow run {result['run_id']}"
    )
    if "version" in result:
        print(f"  registered {result['uri']}")
    if "gate" in result:
        verdict = "PROMOTED to champion" if result["gate"]["passed"] else "not promoted"
        print(f"  gate: {verdict}: {result['gate']['reason']}")
    print(f"  TensorRT: {result['tensorrt']['reason']}")
    return 0
