"""A quick single-process experiment on simulated data: train, evaluate held-out, export, check parity.

    python -m training.experiment audio --train 1500 --heldout 300 --epochs 10
    python -m training.experiment vision --train 800 --heldout 200 --epochs 15 --out /tmp/fs-exp

Prints one JSON line per epoch and a final summary line. Held-out data come from another simulator
seed than training. This is the smoke-size counterpart of the DDP trainer (no MLflow, no store).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from fieldstream.modality import AUDIO
from model_contract.preprocess import VisionPreprocessConfig
from producers.soundscape import BASE_SPECIES_IDS
from training.config import TASKS
from training.data.simulated import HELDOUT_SEED_BASE, build_audio_datasets, build_vision_datasets
from training.export import check_parity, export_onnx
from training.loop import evaluate_audio, evaluate_vision, train_epoch
from training.models.audio import MultiLabelLoss, audio_spec, build_audio_model
from training.models.vision import CenterNetLoss, build_vision_model, count_parameters, vision_spec


def _emit(record: dict[str, Any]) -> None:
    print(
        json.dumps({k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in record.items()}),
        flush=True,
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build data and model for ``args.task``, train ``args.epochs`` epochs, evaluate, export."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    if args.task == AUDIO.name:
        train, heldout = build_audio_datasets(
            args.train, args.heldout, train_seed=args.seed, heldout_seed=HELDOUT_SEED_BASE + args.seed
        )
        model = build_audio_model(audio_spec(BASE_SPECIES_IDS))
        loss_fn: torch.nn.Module = MultiLabelLoss()
        evaluate = evaluate_audio
        headline = "macro_roc_auc"
    else:
        pre = VisionPreprocessConfig(args.width, args.height)
        train, heldout = build_vision_datasets(
            args.train,
            args.heldout,
            train_seed=args.seed,
            heldout_seed=HELDOUT_SEED_BASE + args.seed,
            preprocess=pre,
        )
        model = build_vision_model(vision_spec(pre))
        loss_fn = CenterNetLoss()
        evaluate = evaluate_vision
        headline = "map_50"
    data_s = time.perf_counter() - t0
    _emit(
        {
            "event": "data",
            "task": args.task,
            "train": len(train),
            "heldout": len(heldout),
            "seconds": data_s,
            "params": count_parameters(model),
        }
    )
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, drop_last=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, total_steps=args.epochs * len(loader), pct_start=0.15
    )
    t_train = time.perf_counter()
    metrics: dict[str, float] = {}
    for epoch in range(1, args.epochs + 1):
        stats = train_epoch(model, loader, optimizer, loss_fn, "cpu", scheduler=scheduler, grad_clip=10.0)
        record: dict[str, Any] = {
            "event": "epoch",
            "epoch": epoch,
            "train_loss": stats["loss"],
            "train_s": stats["seconds"],
        }
        if epoch % args.eval_every == 0 or epoch == args.epochs:
            metrics = evaluate(model, heldout, "cpu", loss_fn=loss_fn)
            record.update(
                {headline: metrics[headline], "heldout_loss": metrics["loss"], "eval_s": metrics["seconds"]}
            )
        _emit(record)
    train_s = time.perf_counter() - t_train
    summary: dict[str, Any] = {
        "event": "summary",
        "task": args.task,
        "epochs": args.epochs,
        "train_seconds": train_s,
        "data_seconds": data_s,
        **{k: v for k, v in metrics.items() if "/" not in k},
    }
    summary["per_class"] = {k: round(v, 4) for k, v in metrics.items() if "/" in k}
    if args.out:
        out = Path(args.out)
        example = torch.stack([heldout[i][0] for i in range(2)])
        path = export_onnx(model, example, out / f"{args.task}.onnx")
        batch = torch.stack([heldout[i][0] for i in range(2, min(10, len(heldout)))])
        summary["onnx_parity_max_abs_diff"] = check_parity(model, path, batch)
        torch.save(model.state_dict(), out / f"{args.task}.pt")
    _emit(summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task", choices=TASKS)
    parser.add_argument("--train", type=int, default=1500)
    parser.add_argument("--heldout", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=192)
    parser.add_argument("--eval-every", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="")
    run(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
